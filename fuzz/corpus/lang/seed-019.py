import operator
from functools import reduce
reduce(operator.add, [1, 2, 3])