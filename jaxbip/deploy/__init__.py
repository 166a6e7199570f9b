"""Deployment: the artefact format (model and key), export, image reading,
the HTTP app and its batching server, the portable StableHLO loader and a
load test."""
