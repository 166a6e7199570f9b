"""What every reported metric means: the one table.

report.md (run_report.py), robustness.md (robustness.py) and README's metric
table (checked by a test) all come from `METRICS`.
"""

# key -> (what it means, what we want), in reading order.
METRICS = {
    "acc_authorized": ("top-1 accuracy on keyed test images", "high"),
    "acc_unauthorized": ("top-1 accuracy on plain test images (0 is not "
                         "safe: always-wrong answers can be relabelled)",
                         "near chance (1/K)"),
    "acc_relabeled_unauthorized": (
        "accuracy of the plain answers after the best fixed relabelling "
        "(answer -> most common true label): what a pirate with a few "
        "labelled images gets back, no training", "near chance (1/K)"),
    "mi_unauthorized_bits": ("mutual information between plain answers and "
                             "labels, bits (log2 K: they tell the class)",
                             "near 0"),
    "chance": ("1/K, the accuracy of a guess", "reference"),
    "acc_baseline": ("same classifier trained without protection",
                     "reference"),
    # A key that does not unlock leaves the plain answer: at best chance, as
    # on plain images (0 under `shift` only says the plain answers leak).
    "acc_cross_sample": ("accuracy with another image's residual",
                         "<= chance (1/K)"),
    "acc_noise_same_norm": ("accuracy with noise of the residual's norm",
                            "<= chance (1/K)"),
    "acc_wrong_key": ("accuracy with a random generator, same norm",
                      "<= chance (1/K)"),
    "top5_authorized": ("top-5 accuracy on keyed images", "high"),
    "top5_unauthorized": ("top-5 accuracy on plain images", "<= 5/K"),
    "psnr": ("PSNR of keyed vs plain image (dB)", ">= 35"),
    "ssim": ("SSIM of keyed vs plain image", "near 1"),
    "linf": ("largest pixel change (0-255 units)", "small"),
    "l2": ("L2 norm of the change ([0, 1] units)", "small"),
    "key_top1_energy": ("share of the residual's energy in its 1% largest "
                        "pixels", "near 0.01-0.05 (spread)"),
    "key_p99_255": ("99th percentile of the residual's magnitude (0-255)",
                    "small"),
    "key_universality": ("norm(mean r)^2 / mean norm(r)^2 over the test images",
                         "near 0 (sample-specific)"),
    "key_spectrum_peak": ("peak-to-median of the residual's mean spectrum",
                          "low (no periodic pattern)"),
    "bit_acc": ("fingerprint bits recovered from keyed images", ">= 0.99"),
    "trace_acc": ("keyed images traced to the right user", ">= 0.99"),
    "acc_authorized_user<u>": ("accuracy on images keyed for user u", "high"),
    # Attack results (robustness.md).
    "acc_forged": ("accuracy with a key the pirate forged", "low"),
    "acc_detect": ("a steganalyser's accuracy telling keyed from plain test "
                   "images (0.5: chance)", "near 0.5"),
    "acc_student": ("plain-image accuracy of a model the pirate distilled "
                    "from the stolen one's answers", "low"),
    "acc_remap": ("plain accuracy of the stolen model's answers relabelled "
                  "with n labelled images per class", "near chance (1/K)"),
    "acc_probe": ("a linear probe on the stolen model's plain features, best "
                  "layer", "<= acc_probe_pixels / acc_probe_fresh"),
    "acc_probe_pixels": ("the same probe on raw pixels (no stolen weights)",
                         "reference"),
    "acc_probe_fresh": ("the same probe on a freshly initialised network, "
                        "best layer (no stolen weights)", "reference"),
    "acc_guess": ("plain accuracy with the best of random faint changes at "
                  "1x / 2x the key's norm (no data)", "near chance (1/K)"),
    "acc_universal": ("plain accuracy with one perturbation for all images, "
                      "learnt on the pirate's labelled data, in the key's "
                      "norm ball", "near chance (1/K)"),
    "acc_clone": ("keyed accuracy with a key generator the pirate trained "
                  "on intercepted keyed/plain pairs", "low"),
}

PER_USER_PREFIX = "acc_authorized_user"  # acc_authorized_user0, ...


def meaning(key: str) -> tuple[str, str] | None:
  """(meaning, want) of a key, per-user keys included; None if unknown."""
  if key.startswith(PER_USER_PREFIX) and key not in METRICS:
    user = key.removeprefix(PER_USER_PREFIX)
    text, want = METRICS[PER_USER_PREFIX + "<u>"]
    return text.replace("user u", f"user {user}"), want
  return METRICS.get(key)


def markdown_table() -> list[str]:
  """The table of README: `| key | meaning | want |`, one row per metric."""
  lines = ["| key | meaning | want |", "|---|---|---|"]
  lines += [f"| `{k}` | {m} | {w} |" for k, (m, w) in METRICS.items()]
  return lines
