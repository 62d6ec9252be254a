"""A run target that prints more than a pipe buffer holds."""

for number in range(200000):
    print("line", number)
