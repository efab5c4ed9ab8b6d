study {
  name = "demo"
  seed = 3
}

variable "scale" {
  default = 2
}

dataset "d" {
  source  = "demo.csv"
  formula = "formula"
  target  = "alpha"
}

table "scaled" {
  for_each = { x1 = 1, x2 = 2 }
  data     = dataset.d
  derive   = { z = "alpha * ${each.value} * ${var.scale}" }
}
