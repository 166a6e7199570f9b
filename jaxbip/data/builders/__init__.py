"""TFDS builders that jaxbip prepares itself: digits (embedded), image_folder
and youtube_faces (from files), on the shared file-list builder."""
