"""Placeholder: the tablesdb service is being written."""


def register(stack, router):  # noqa: ANN001
    pass
