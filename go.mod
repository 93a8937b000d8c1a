module gosd

go 1.26.0
