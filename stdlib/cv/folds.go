package cv

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// KFold splits rows 0..n−1 into k folds the way sklearn's KFold(k, shuffle=True) does:
// the rows are permuted with rng, the permutation is cut into k contiguous blocks, the
// first n mod k blocks one row larger than the rest (⌊n/k⌋+1 and ⌊n/k⌋ rows), and each
// fold's test rows are returned in ascending order (sklearn returns them sorted too).
// Every row is in exactly one fold. The permutation is a Fisher–Yates shuffle driven by
// rng.Uint64 alone, so it depends only on the PCG output, which math/rand/v2 documents as
// stable, not on the algorithms behind rand.Rand's helpers. It cannot reproduce numpy's
// permutations. KFold panics if k < 2 or k > n.
func KFold(n, k int, rng *rand.Rand) [][]int {
	if k < 2 || k > n {
		panic(fmt.Sprintf("cv: KFold: need 2 <= k <= n, have k = %d, n = %d", k, n))
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(uniform(rng, uint64(i+1)))
		perm[i], perm[j] = perm[j], perm[i]
	}
	folds := make([][]int, k)
	start := 0
	for f := range folds {
		size := n / k
		if f < n%k {
			size++
		}
		folds[f] = slices.Clone(perm[start : start+size])
		slices.Sort(folds[f])
		start += size
	}
	return folds
}

// uniform returns an unbiased integer in [0, n) by Lemire's multiply-and-reject method.
func uniform(rng *rand.Rand, n uint64) uint64 {
	for {
		hi, lo := bits.Mul64(rng.Uint64(), n)
		if lo >= n {
			return hi
		}
		if lo >= -n%n { // -n%n = 2^64 mod n: reject the biased low band
			return hi
		}
	}
}

// complement returns the rows 0..n−1 not in the sorted slice test, ascending.
func complement(n int, test []int) []int {
	out := make([]int, 0, n-len(test))
	t := 0
	for i := 0; i < n; i++ {
		if t < len(test) && test[t] == i {
			t++
			continue
		}
		out = append(out, i)
	}
	return out
}

// stream returns a PCG generator keyed by the seed and a purpose path: the SHA-256 of
// "ntedsl/cv/stream/v1", the seed and each part (strings length-prefixed, ints as 8
// bytes), of which the first 16 bytes seed PCG. A stream therefore depends only on what
// it is for, never on the order in which tasks are scheduled.
func stream(seed uint64, parts ...any) *rand.Rand {
	h := sha256.New()
	var b [8]byte
	h.Write([]byte("ntedsl/cv/stream/v1"))
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			binary.LittleEndian.PutUint64(b[:], uint64(len(v)))
			h.Write([]byte{'s'})
			h.Write(b[:])
			h.Write([]byte(v))
		case int:
			binary.LittleEndian.PutUint64(b[:], uint64(v))
			h.Write([]byte{'i'})
			h.Write(b[:])
		default:
			panic(fmt.Sprintf("cv: stream part of type %T", p))
		}
	}
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])))
}
