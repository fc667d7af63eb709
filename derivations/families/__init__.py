"""One module (or package) per derivation family; an id's prefix names it (``fp.forward`` lives
in ``families/fp/``). Every module here is imported by :mod:`derivations` and registers its ids."""
