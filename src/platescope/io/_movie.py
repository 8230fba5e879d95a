"""Placeholder: the movie reader registry is being written."""


def read_movie(path, **kwargs):
    raise NotImplementedError


def read_frame_times(path):
    raise NotImplementedError


def describe_movie(path):
    raise NotImplementedError
