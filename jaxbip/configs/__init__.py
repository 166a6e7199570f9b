"""The configs that ship with jaxbip, importable from an installed wheel.

default.py is the schema (every field, documented); one file per dataset
(digits.py, folder.py, cifar10.py, imagenet_subset.py, youtube_faces.py,
tiny.py for tests) starts from it and takes recipes by name from recipes.py:
`--config=configs/digits.py:stealth`. The repository's configs/ folder
holds the files to name on the command line.
"""
