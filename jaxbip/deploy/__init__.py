"""Deployment: the artefact format (model and key), export, image reading and
the HTTP app."""
