"""Placeholder: the account service is being written."""


def register(stack, router):
    pass
