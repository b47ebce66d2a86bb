"""Placeholder: the functions service is being written."""


def register(stack, router):
    pass
