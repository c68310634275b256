"""The bowl, the sum of the squares of a point's coordinates: a loss surface shared by
the plot tests."""


def bowl(p):
    return (p ** 2).sum(-1)
