"""Placeholder: the teams service is being written."""


def register(stack, router):
    pass
