/* fastembed: build facts reported by fastembed.show_config(). */
#ifndef FE_CONFIG_H
#define FE_CONFIG_H

static inline const char *fe_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#elif defined(_MSC_VER)
    return "msvc";
#else
    return "unknown";
#endif
}

#endif /* FE_CONFIG_H */
