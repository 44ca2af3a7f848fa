"""Pieces the test areas share: a recording sleep for retry policies and the Textual host apps."""
