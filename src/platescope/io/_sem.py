"""Placeholder: the SEM reader is being written."""


def read_sem(path, **kwargs):
    raise NotImplementedError


def describe_sem(path):
    raise NotImplementedError
