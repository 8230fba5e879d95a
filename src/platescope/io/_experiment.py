"""Placeholder: experiment-file reader is being written."""


class Experiment:
    pass


def read_experiment(path):
    raise NotImplementedError
