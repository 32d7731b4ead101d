def total(xs):
    out = 0
    for x in xs:
        out += x
    return out
