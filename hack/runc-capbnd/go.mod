module sora.invalid/runc-capbnd

go 1.22
