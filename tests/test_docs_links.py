"""Every relative link in README.md, CHANGELOG.md and docs/**/*.md resolves.

A link `[text](path)` or image `![alt](path)` must name a file or folder
that exists, relative to the markdown file; `path#anchor` into a markdown
file (or `#anchor` alone) must name one of its headings, slugged as GitHub
does. Links in fenced code blocks and inline code are not links.
"""

import glob
import os
import re

from tests.conftest import REPO_ROOT

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def markdown_files(root: str = REPO_ROOT) -> list[str]:
  files = [os.path.join(root, name) for name in ("README.md", "CHANGELOG.md")]
  files += glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True)
  return sorted(f for f in files if os.path.isfile(f))


def _prose(text: str) -> str:
  """The text without fenced code blocks (kept as blank lines)."""
  return _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def anchors(text: str) -> set[str]:
  """GitHub's ids of the headings: lower case, punctuation dropped, spaces
  to hyphens; a repeated id gets -1, -2, ..."""
  seen = {}
  out = set()
  for heading in _HEADING.findall(_prose(text)):
    heading = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
    n = seen.get(slug, 0)
    seen[slug] = n + 1
    out.add(slug if n == 0 else f"{slug}-{n}")
  return out


def broken_links(path: str) -> list[str]:
  """`target (why)` for every relative link of `path` that does not resolve."""
  with open(path, encoding="utf-8") as f:
    text = f.read()
  broken = []
  for target in _LINK.findall(_CODE.sub("", _prose(text))):
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, mailto:
      continue
    file_part, _, anchor = target.partition("#")
    resolved = (os.path.normpath(os.path.join(os.path.dirname(path),
                                              file_part))
                if file_part else path)
    if not os.path.exists(resolved):
      broken.append(f"{target} (no such file)")
      continue
    if anchor and resolved.endswith(".md"):
      with open(resolved, encoding="utf-8") as f:
        if anchor not in anchors(f.read()):
          broken.append(f"{target} (no heading #{anchor})")
  return broken


def test_every_relative_link_in_the_docs_resolves():
  files = markdown_files()
  assert os.path.join(REPO_ROOT, "README.md") in files
  assert any(os.sep + "results" + os.sep in f for f in files)
  broken = {os.path.relpath(f, REPO_ROOT): broken_links(f) for f in files}
  assert not {f: b for f, b in broken.items() if b}


def test_a_broken_link_is_found(tmp_path):
  (tmp_path / "docs" / "results").mkdir(parents=True)
  (tmp_path / "docs" / "results" / "a.png").write_bytes(b"")
  (tmp_path / "docs" / "guide.md").write_text(
      "# Guide\n\n## The `make train` run: 2 cores\n\n## Two\n\n## Two\n")
  page = tmp_path / "docs" / "results" / "log.md"
  page.write_text(
      "# Log\n\n"
      "[ok](../guide.md) [ok](../guide.md#the-make-train-run-2-cores)\n"
      "[ok](../guide.md#two-1) ![ok](a.png) [ok](#log) [ok](https://x.org/y)\n"
      "[ok](../../docs) `[code](nope.md)`\n\n"
      "```sh\n# not a heading [nor](a/link.md)\n```\n\n"
      "[bad](guide.md) ![bad](../a.png) [bad](../guide.md#three) [bad](#nope)\n")
  assert broken_links(str(page)) == [
      "guide.md (no such file)", "../a.png (no such file)",
      "../guide.md#three (no heading #three)", "#nope (no heading #nope)"]
  assert markdown_files(str(tmp_path)) == sorted(
      [str(tmp_path / "docs" / "guide.md"), str(page)])
