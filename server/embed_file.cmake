# Writes OUT, a C++ source defining threadsearch::SYMBOL (the bytes of IN) and
# SYMBOL##Size. Run as: cmake -DIN=… -DOUT=… -DSYMBOL=… -P embed_file.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
# Break the initializer into lines of 16 bytes.
string(REGEX REPLACE "(('[^']*',){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp"
  "// Generated from ${IN} by server/embed_file.cmake; do not edit.\n"
  "#include <cstddef>\n\n"
  "namespace threadsearch {\n\n"
  "extern const char ${SYMBOL}[];\n"
  "extern const size_t ${SYMBOL}Size;\n"
  "const char ${SYMBOL}[] = {\n${bytes}'\\0'};\n"
  "const size_t ${SYMBOL}Size = ${size};\n\n"
  "}  // namespace threadsearch\n")
file(RENAME "${OUT}.tmp" "${OUT}")
