"""Placeholder: the users service is being written."""


def register(stack, router):
    pass
