/* End of one SIMD level's instantiation. These are the names every layer (simd/vec_*.h) defines and
 * the kernels of impl/ use; a new level defines all of them:
 *
 *   FE_LEVEL, FE_LEVEL_NAME   suffix of the level's functions (FE_FN) and its name for Python
 *   FV, FV_W                  the vector type and its width in floats (4, 8 or 16)
 *   FV_ROWS                   rows per scan block (its accumulators fit the register file)
 *   FV_PAIR_ROWS              rows per pass of the two-query scan kernel
 *   FV_TILE_R, FV_TILE_C      rows x queries of the tiled kernel's register tile (impl/tile.h; R <= 4,
 *                             C <= 6, R * C * 16 / FV_W accumulators must fit the register file)
 *   FV_HAVE_STREAM            1 if FV_STREAM / FV_STREAM4 are non-temporal stores (x86)
 *   FV_ZERO() FV_SET1(x) FV_LOADU(p) FV_STOREU(p, v) FV_ADD(a, b) FV_MUL(a, b)
 *   FV_GE_ANY(a, b)           optional: 1 if some lane of a >= b (ordered compare; impl/tile.h
 *                             stores and compares lanes where a layer has none)
 *   FV_LOAD_UPTO(p, m)        the first m floats of p, any int m (<= 0: none), the rest +0.0
 *   FV_KEEP_UPTO(v, m)        v with lanes m.. (any int m) set to +0.0
 *   FV_PIN(v)                 keep v in a register (an empty asm; nothing on portable C)
 *   FV_STREAM(p, v)           store to a FV_W * 4-byte aligned p; FV_STREAM4: 4 floats, 16-byte aligned
 *   FV_FENCE()                order streaming stores before the kernel returns
 *   FV_LOADU_F16(p), FV_LOADU_BF16(p)  FV_W stored float16 / bfloat16 values (uint16_t bits, any
 *                             alignment) as FV_W floats, exactly as csrc/fe_half.h converts them
 *   FV_LOADU_I8(p)            optional: FV_W int8 values (any alignment) as floats (impl/kinds.h has a
 *                             scalar fallback for layers without one)
 *   FV_I8_ABSMAX, FV_I8_QUANT, FV_HX_SPAN, FV_I8_BLOCK, FV_I8_KERNEL_NAME
 *                             optional: the int8 index's vector code (impl/int8.h runs portable C
 *                             where a layer has none); FV_I8_VNNI selects vpdpbusd (avx512vnni)
 *   fv_reduce16(acc)          the 16-lane tree of impl/dot.h on one row's 16 / FV_W vectors
 *   fv_reduce16_rows(acc, out)  the same for FV_ROWS rows at once (acc[r * 16 / FV_W + j])
 */
#undef FE_LEVEL
#undef FE_LEVEL_NAME
#undef FV
#undef FV_W
#undef FV_ROWS
#undef FV_PAIR_ROWS
#undef FV_TILE_R
#undef FV_TILE_C
#undef FV_HAVE_STREAM
#undef FV_ZERO
#undef FV_PIN
#undef FV_SET1
#undef FV_LOADU
#undef FV_STOREU
#undef FV_LOAD_UPTO
#undef FV_ADD
#undef FV_MUL
#undef FV_GE_ANY
#undef FV_STREAM
#undef FV_STREAM4
#undef FV_FENCE
#undef FV_LOADU_F16
#undef FV_LOADU_BF16
#undef FV_LOADU_I8
#undef FV_I8_ABSMAX
#undef FV_I8_QUANT
#undef FV_HX_SPAN
#undef FV_I8_BLOCK
#undef FV_I8_KERNEL_NAME
#undef FV_I8_VNNI
#undef FV_KEEP_UPTO
