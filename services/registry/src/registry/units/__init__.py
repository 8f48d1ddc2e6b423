"""Administrative units: an effective-dated tree, loaded from a file and reorganised (rename, merge, split, dissolve)."""
