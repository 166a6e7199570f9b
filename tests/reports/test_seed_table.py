"""The seeds table's scorecard cell: three verdicts, old files read."""

from jaxbip.reports import seed_table


def _card(attack, verdict):
  return {"attack": attack, "verdict": verdict, "holds": verdict == "holds"}


def test_an_undecided_criterion_is_neither_held_nor_broken():
  cards = [_card("prune", "holds"), _card("finetune", "undecided"),
           _card("remap", "broken"), _card("probe", "undecided")]
  assert seed_table._scorecard_cell(cards) == (
      "1/4 hold; broken: remap; undecided: finetune, probe")


def test_no_undecided_says_only_what_broke():
  cards = [_card("prune", "holds"), _card("forge", "holds")]
  assert seed_table._scorecard_cell(cards) == "2/2 hold; broken: none"


def test_seeds_json_before_the_three_way_verdict_reads_holds():
  old = [{"attack": "prune", "holds": True},
         {"attack": "finetune", "holds": False}]
  assert seed_table._scorecard_cell(old) == "1/2 hold; broken: finetune"
