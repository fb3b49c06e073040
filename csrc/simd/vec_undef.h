/* End of one SIMD level's instantiation: the names every layer defines. */
#undef FE_LEVEL
#undef FE_LEVEL_NAME
#undef FV
#undef FV_W
#undef FV_ROWS
#undef FV_HAVE_STREAM
#undef FV_ZERO
#undef FV_SET1
#undef FV_LOADU
#undef FV_STOREU
#undef FV_LOAD_PART
#undef FV_ADD
#undef FV_MUL
#undef FV_STREAM
#undef FV_STREAM4
#undef FV_FENCE
