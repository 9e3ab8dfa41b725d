// The owner of the test programs' shared precompiled header
// (tests/CMakeLists.txt, SHIPLOG_PCH): it only compiles the header;
// its main() is gMock's, which finds no tests.
