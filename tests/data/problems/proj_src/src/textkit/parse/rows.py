from ..util import strip


def parse_row(line):
    return [strip(cell) for cell in line.split(";")]
