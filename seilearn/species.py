"""Species conventions: the MTP type index of an element is its position in the species list."""

DEFAULT_SPECIES: tuple[str, ...] = ("Li", "P", "S", "Cl")
