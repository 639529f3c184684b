;; Bit-twiddling identities for boolector (SMT-LIB 2, QF_BV), the `boolector-unsat` workload of
;; corpora/workloads.toml (fed on stdin). The formula says that at least one identity FAILS for
;; some x, y (32 bits) or a, b (7 bits); boolector proves that no such values exist, prints
;; `unsat`, and exits with 20.
;;  1. the overflow-free average (x & y) + ((x ^ y) >> 1) equals floor((x + y) / 2) computed
;;     in 33 bits;
;;  2. x & (x - 1) clears the lowest set bit: it equals x - (x & -x);
;;  3. the branch-free absolute value (x ^ s) - s, s = x >> 31 (arithmetic), equals
;;     ite(x < 0, -x, x);
;;  4. a shift-and-add multiplier equals bvmul: a multiplier-equivalence proof, hard for a SAT
;;     solver and most of the solving time (8 bits take about 2 s, 10 bits a minute).
(set-logic QF_BV)
(declare-const x (_ BitVec 32))
(declare-const y (_ BitVec 32))
(declare-const a (_ BitVec 7))
(declare-const b (_ BitVec 7))
(define-fun avg_fast () (_ BitVec 32) (bvadd (bvand x y) (bvlshr (bvxor x y) #x00000001)))
(define-fun avg_wide () (_ BitVec 32)
  ((_ extract 31 0) (bvlshr (bvadd ((_ zero_extend 1) x) ((_ zero_extend 1) y)) (_ bv1 33))))
(define-fun s () (_ BitVec 32) (bvashr x (_ bv31 32)))
(define-fun shift_add () (_ BitVec 7)
  (bvadd
    (ite (= ((_ extract 0 0) b) #b1) (bvshl a (_ bv0 7)) (_ bv0 7))
    (ite (= ((_ extract 1 1) b) #b1) (bvshl a (_ bv1 7)) (_ bv0 7))
    (ite (= ((_ extract 2 2) b) #b1) (bvshl a (_ bv2 7)) (_ bv0 7))
    (ite (= ((_ extract 3 3) b) #b1) (bvshl a (_ bv3 7)) (_ bv0 7))
    (ite (= ((_ extract 4 4) b) #b1) (bvshl a (_ bv4 7)) (_ bv0 7))
    (ite (= ((_ extract 5 5) b) #b1) (bvshl a (_ bv5 7)) (_ bv0 7))
    (ite (= ((_ extract 6 6) b) #b1) (bvshl a (_ bv6 7)) (_ bv0 7))))
(assert (or (distinct avg_fast avg_wide)
            (distinct (bvand x (bvsub x #x00000001)) (bvsub x (bvand x (bvneg x))))
            (distinct (bvsub (bvxor x s) s) (ite (bvslt x #x00000000) (bvneg x) x))
            (distinct shift_add (bvmul a b))))
(check-sat)
(exit)
