"""Placeholder: the echem reader registry is being written."""


def read_echem(path, **kwargs):
    raise NotImplementedError


def describe_echem(path):
    raise NotImplementedError
