"""The paper's method in pure JAX, no I/O: the protected bundle (protected),
the compiled steps (steps), the train state, the mislabel maps, user
fingerprints, image metrics and optimisers."""
