"""Facades that speak other libraries' APIs over fastembed's tables and kernels.

* :mod:`fastembed.compat.gensim` — gensim 4.x's ``KeyedVectors``, ``Word2Vec``,
  ``load_facebook_vectors`` / ``load_facebook_model``: change one import, keep the script.

Each facade is a module holding fastembed objects (an :class:`~fastembed.table.EmbeddingTable`,
a trainer) and translating names, arguments, return types and exceptions; nothing is added to
the table itself. Importing a facade never imports the library it imitates.
"""
