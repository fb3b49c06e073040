"""From text to vectors: tokenizers, static sentence-embedding models and transformer embedding layers.

* :class:`Tokenizer` - a ``tokenizer.json`` to ragged ids (flat int64 ids + offsets); BERT-family
  WordPiece files run natively (C, OpenMP over texts), every other file through Hugging Face
  ``tokenizers`` (the ``[text]`` extra).
* :class:`StaticModel` - model2vec / sentence-transformers static models: ``encode(sentences)``
  -> (N, D) float32, as those libraries encode.
* :class:`TransformerEmbedding` - the embedding layer of a BERT- or GPT-2-family checkpoint
  (word + position (+ type) rows, LayerNorm fused into the same pass): texts or ids -> (B, T, D).
"""
from __future__ import annotations

from fastembed.text.static import StaticModel
from fastembed.text.tokenizer import TokenIds, Tokenizer
from fastembed.text.transformer import TransformerEmbedding

__all__ = ["Tokenizer", "TokenIds", "StaticModel", "TransformerEmbedding"]
