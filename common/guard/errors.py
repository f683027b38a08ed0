"""The guard's internal refusal: raised anywhere in a check, turned into a verdict at the top."""


class Refusal(Exception):
    """Why a statement is refused, in words the model (and the operator) can act on."""
