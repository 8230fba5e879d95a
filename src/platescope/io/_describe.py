"""Placeholder: `platescope info` dispatch is being written."""


def describe(path):
    raise NotImplementedError
