module example.invalid/pouw

go 1.19
