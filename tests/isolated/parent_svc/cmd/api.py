print("API RAN")
