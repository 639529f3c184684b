;; A bit-vector puzzle for boolector (SMT-LIB 2, QF_BV), the `boolector` workload of
;; corpora/workloads.toml. Two problems in one satisfiable formula:
;;  1. SEND + MORE = MONEY: eight distinct decimal digits, S and M not zero, over 32-bit
;;     vectors so that no sum wraps (the only solution is 9567 + 1085 = 10652);
;;  2. factor the 36-bit semiprime 60121841789 = 229351 * 262139 into two 18-bit factors
;;     (p <= q, both > 1), through a 36-bit multiplier circuit: most of the solving time.
;; boolector prints `sat` and the model, and exits with 10 (sat).
(set-logic QF_BV)
(set-option :produce-models true)
(declare-const S (_ BitVec 32))
(declare-const E (_ BitVec 32))
(declare-const N (_ BitVec 32))
(declare-const D (_ BitVec 32))
(declare-const M (_ BitVec 32))
(declare-const O (_ BitVec 32))
(declare-const R (_ BitVec 32))
(declare-const Y (_ BitVec 32))
(assert (bvule S (_ bv9 32)))
(assert (bvule E (_ bv9 32)))
(assert (bvule N (_ bv9 32)))
(assert (bvule D (_ bv9 32)))
(assert (bvule M (_ bv9 32)))
(assert (bvule O (_ bv9 32)))
(assert (bvule R (_ bv9 32)))
(assert (bvule Y (_ bv9 32)))
(assert (distinct S E N D M O R Y))
(assert (not (= S (_ bv0 32))))
(assert (not (= M (_ bv0 32))))
(assert (= (bvadd (bvadd (bvmul (_ bv1000 32) S) (bvmul (_ bv100 32) E) (bvmul (_ bv10 32) N) (bvmul (_ bv1 32) D)) (bvadd (bvmul (_ bv1000 32) M) (bvmul (_ bv100 32) O) (bvmul (_ bv10 32) R) (bvmul (_ bv1 32) E)))
           (bvadd (bvmul (_ bv10000 32) M) (bvmul (_ bv1000 32) O) (bvmul (_ bv100 32) N) (bvmul (_ bv10 32) E) (bvmul (_ bv1 32) Y))))
(declare-const p (_ BitVec 18))
(declare-const q (_ BitVec 18))
(assert (= (bvmul ((_ zero_extend 18) p) ((_ zero_extend 18) q)) (_ bv60121841789 36)))
(assert (bvugt p (_ bv1 18)))
(assert (bvugt q (_ bv1 18)))
(assert (bvule p q))
(check-sat)
(get-value (S E N D M O R Y p q))
(exit)
