import math
(math.sqrt(2), math.floor(2.5), math.pi, abs(-3), round(2.675, 2), min(3, 1, 2), max([4, 5]))