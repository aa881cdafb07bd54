;; The chunker's gear scan (chunker.ts gearScan, which stays the reference the
;; tests compare this with) as WebAssembly. chunker.ts runs it from the bytes
;; in gear-scan-wasm.ts, which scripts/build-gear-scan.mjs makes from this
;; file: edit this file, then run `node scripts/build-gear-scan.mjs`.
;;
;; Memory (imported; the caller lays it out, see WasmScan in chunker.ts):
;;   bytes 0 .. 1023   the gear table, 256 little-endian i32
;;   then              where hits are written, then the chunker's window
;;
;; Both functions hash memory[p, end) on from the hash h, one byte at a time:
;;   h = (h << 1) + gear[byte]
;;   if ((h & maskL) == 0) { *out = (h & maskS) == 0 ? -at - 1 : at; out += 4 }
;; where `at` is the byte's address, and return the new out, leaving the hash
;; in the exported global "h". Both need p < end; `words` reads a 32-bit word
;; at a time, so 4 must divide end - p (and p be 4-aligned to be fast).
(module
  (import "env" "memory" (memory 1))

  (func $bytes (export "bytes")
    (param $p i32) (param $end i32) (param $h i32)
    (param $maskS i32) (param $maskL i32) (param $out i32)
    (result i32)
    (loop $next
      (if (i32.eqz (i32.and
            (local.tee $h (i32.add
              (i32.shl (local.get $h) (i32.const 1))
              (i32.load (i32.shl (i32.load8_u (local.get $p)) (i32.const 2)))))
            (local.get $maskL)))
        (then
          (i32.store (local.get $out)
            (select
              (i32.sub (i32.const -1) (local.get $p))
              (local.get $p)
              (i32.eqz (i32.and (local.get $h) (local.get $maskS)))))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))))
      (br_if $next (i32.lt_u
        (local.tee $p (i32.add (local.get $p) (i32.const 1)))
        (local.get $end))))
    (global.set $hash (local.get $h))
    (local.get $out))

  ;; The same, unrolled over the four bytes of each little-endian word.
  (func $words (export "words")
    (param $p i32) (param $end i32) (param $h i32)
    (param $maskS i32) (param $maskL i32) (param $out i32)
    (result i32)
    (local $word i32)
    (loop $next
      (local.set $word (i32.load (local.get $p)))

      ;; byte 0, at p
      (if (i32.eqz (i32.and
            (local.tee $h (i32.add
              (i32.shl (local.get $h) (i32.const 1))
              (i32.load (i32.shl
                (i32.and (local.get $word) (i32.const 255))
                (i32.const 2)))))
            (local.get $maskL)))
        (then
          (i32.store (local.get $out)
            (select
              (i32.sub (i32.const -1) (local.get $p))
              (local.get $p)
              (i32.eqz (i32.and (local.get $h) (local.get $maskS)))))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))))

      ;; byte 1, at p + 1
      (if (i32.eqz (i32.and
            (local.tee $h (i32.add
              (i32.shl (local.get $h) (i32.const 1))
              (i32.load (i32.shl
                (i32.and (i32.shr_u (local.get $word) (i32.const 8)) (i32.const 255))
                (i32.const 2)))))
            (local.get $maskL)))
        (then
          (i32.store (local.get $out)
            (select
              (i32.sub (i32.const -1) (i32.add (local.get $p) (i32.const 1)))
              (i32.add (local.get $p) (i32.const 1))
              (i32.eqz (i32.and (local.get $h) (local.get $maskS)))))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))))

      ;; byte 2, at p + 2
      (if (i32.eqz (i32.and
            (local.tee $h (i32.add
              (i32.shl (local.get $h) (i32.const 1))
              (i32.load (i32.shl
                (i32.and (i32.shr_u (local.get $word) (i32.const 16)) (i32.const 255))
                (i32.const 2)))))
            (local.get $maskL)))
        (then
          (i32.store (local.get $out)
            (select
              (i32.sub (i32.const -1) (i32.add (local.get $p) (i32.const 2)))
              (i32.add (local.get $p) (i32.const 2))
              (i32.eqz (i32.and (local.get $h) (local.get $maskS)))))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))))

      ;; byte 3, at p + 3
      (if (i32.eqz (i32.and
            (local.tee $h (i32.add
              (i32.shl (local.get $h) (i32.const 1))
              (i32.load (i32.shl
                (i32.shr_u (local.get $word) (i32.const 24))
                (i32.const 2)))))
            (local.get $maskL)))
        (then
          (i32.store (local.get $out)
            (select
              (i32.sub (i32.const -1) (i32.add (local.get $p) (i32.const 3)))
              (i32.add (local.get $p) (i32.const 3))
              (i32.eqz (i32.and (local.get $h) (local.get $maskS)))))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))))

      (br_if $next (i32.lt_u
        (local.tee $p (i32.add (local.get $p) (i32.const 4)))
        (local.get $end))))
    (global.set $hash (local.get $h))
    (local.get $out))

  ;; The hash after the last byte a call scanned.
  (global $hash (export "h") (mut i32) (i32.const 0)))
