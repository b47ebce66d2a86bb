"""Placeholder: the tablesdb service is being written."""


def register(stack, router):
    pass
