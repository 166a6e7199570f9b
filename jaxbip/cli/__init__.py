"""The commands: one short module each, all run through `command.run`.

train (also `python -m jaxbip.main`), evaluate, attack, report, export,
authorize, predict, trace, serve, benchmark; each is a console script
`jaxbip-NAME` (setup.cfg).
"""
