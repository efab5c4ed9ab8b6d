# The standard UCI regression benchmark (20 fixed 90/10 train/test splits per data set) for
# Probabilistic Backpropagation, to compare with the published figures (Hernández-Lobato &
# Adams 2015; Gal & Ghahramani 2016, Table 1: mean ± standard error over splits):
#
#   data set   test RMSE     test LL
#   Boston     3.01 ± 0.18   -2.57 ± 0.09
#   Concrete   5.67 ± 0.09   -3.16 ± 0.02
#   Energy     1.80 ± 0.05   -2.04 ± 0.02
#   Wine       0.64 ± 0.01   -0.97 ± 0.01
#   Yacht      1.02 ± 0.05   -1.63 ± 0.02
#
# The data and split files are the repository's test fixtures (testdata/uci, with provenance).
#   go run ./cmd/ntedsl run pipelines/uci_pbp.hcl

study {
  name = "uci-pbp"
  seed = 1
}

variable "splits" {
  description = "How many of the 20 standard splits to run."
  default     = 20
}

locals {
  # data set → (folder, target column of data.txt)
  sets = {
    boston   = { dir = "bostonHousing", target = "c13" }
    concrete = { dir = "concrete", target = "c8" }
    energy   = { dir = "energy", target = "c8" }
    wine     = { dir = "wine-quality-red", target = "c11" }
    yacht    = { dir = "yacht", target = "c6" }
  }
}

dataset "uci" {
  for_each = local.sets
  source   = "../testdata/uci/${each.value.dir}/data.txt"
  format   = "whitespace"
  header   = false
  target   = each.value.target # the last column; every other column is an input
}

pbp "pbp" {
  hidden = [50]
  epochs = 40
}

benchmark "pbp" {
  for_each = local.sets
  data     = dataset.uci[each.key]
  models   = [pbp.pbp]
  splits   = "../testdata/uci/${each.value.dir}"
  count    = var.splits
}
