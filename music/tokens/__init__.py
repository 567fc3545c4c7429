"""Tokens: Songs to grammar tokens and back (the exact and classic grammars, the
notes encoding), the harmony and position features, bar pruning and the vocabulary.
"""
