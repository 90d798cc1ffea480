// The expression evaluator, end to end: each case compiles `VARIABLE r = <expression>` in a handler,
// runs it, and reads r back through a log line (see eval() in flow_harness.hpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "flow_harness.hpp"

namespace flowd::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---- arithmetic

TEST(Evaluator, AddsSubtractsMultipliesWithPrecedence) {
  EXPECT_EQ(eval("1 + 2 * 3", "int"), "7");
  EXPECT_EQ(eval("(1 + 2) * 3", "int"), "9");
  EXPECT_EQ(eval("10 - 4 - 3", "int"), "3");
  EXPECT_EQ(eval("-2 * -3", "int"), "6");
  EXPECT_EQ(eval("0x10 + 1", "int"), "17");
}

TEST(Evaluator, DividesIntegersTowardsZero) {
  EXPECT_EQ(eval("7 / 2", "int"), "3");
  EXPECT_EQ(eval("-7 / 2", "int"), "-3");
  EXPECT_EQ(eval("7 % 3", "int"), "1");
  EXPECT_EQ(eval("-7 % 3", "int"), "-1");
}

TEST(Evaluator, PanicsOnIntegerOverflow) {
  EXPECT_EQ(eval("9223372036854775807 + 1", "int"), "ERROR: arithmetic overflow: the result does not fit in an int");
  EXPECT_EQ(eval("-9223372036854775807 - 2", "int"), "ERROR: arithmetic overflow: the result does not fit in an int");
  EXPECT_EQ(eval("4611686018427387904 * 2", "int"), "ERROR: arithmetic overflow: the result does not fit in an int");
  EXPECT_EQ(eval("9223372036854775807 + 0", "int"), "9223372036854775807");
}

TEST(Evaluator, PanicsWhenDividingTheSmallestIntByMinusOne) {
  EXPECT_EQ(eval("(-9223372036854775807 - 1) / -1", "int"),
            "ERROR: arithmetic overflow: the result does not fit in an int");
  EXPECT_EQ(eval("(-9223372036854775807 - 1) % -1", "int"), "0");
  EXPECT_EQ(eval("-(-9223372036854775807 - 1)", "int"), "ERROR: arithmetic overflow: the result does not fit in an int");
}

TEST(Evaluator, PanicsOnIntegerDivisionByZero) {
  EXPECT_EQ(eval("1 / 0", "int"), "ERROR: division by zero");
  EXPECT_EQ(eval("1 % 0", "int"), "ERROR: division by zero");
}

TEST(Evaluator, DividesFloatsByZeroToInfinity) {
  EXPECT_EQ(eval("1.0 / 0.0", "float"), "Infinity");
  EXPECT_EQ(eval("-1.0 / 0.0", "float"), "-Infinity");
  EXPECT_EQ(eval("0.0 / 0.0", "float"), "NaN");
}

TEST(Evaluator, FormatsFloatsWithAFractionOrExponent) {
  EXPECT_EQ(eval("1.0", "float"), "1.0");
  EXPECT_EQ(eval("0.1 + 0.2", "float"), "0.30000000000000004");
  EXPECT_EQ(eval("2.5 * 2", "float"), "5.0");
  EXPECT_EQ(eval("-0.5", "float"), "-0.5");
  EXPECT_EQ(eval("7.5 % 2.0", "float"), "1.5");
}

TEST(Evaluator, GivesIntLiteralsTheFloatTypeOfTheirContext) {
  EXPECT_EQ(eval("3", "float"), "3.0");
  EXPECT_EQ(eval("1 + 2.5", "float"), "3.5");
  EXPECT_EQ(eval("2.5 + 1", "float"), "3.5");
}

TEST(Evaluator, RefusesMixingIntAndFloatVariables) {
  EXPECT_THAT(eval("data.length() + 1.5", "float"),
              StartsWith("LOAD ERROR: E208 operator '+' is not defined for int and float"));
}

// ---- strings

TEST(Evaluator, ConcatenatesStrings) {
  EXPECT_EQ(eval("\"ab\" + \"cd\"", "string"), "abcd");
  EXPECT_EQ(eval("\"\" + \"\"", "string"), "");
}

TEST(Evaluator, InterpolatesSimpleValuesIntoTemplates) {
  EXPECT_EQ(eval("string `n=${1 + 1} f=${1.5} whole=${2.0} b=${true} s=${\"x\"}`", "string"),
            "n=2 f=1.5 whole=2.0 b=true s=x");
  EXPECT_EQ(eval("string `${42}`", "string"), "42");
  EXPECT_EQ(eval("string ``", "string"), "");
  EXPECT_EQ(eval("string `a\\nb`", "string"), "a\\nb");  // template text is raw
  EXPECT_EQ(eval("string `${string `in${1}`}out`", "string"), "in1out");
}

TEST(Evaluator, ComparesStringsByteWise) {
  EXPECT_EQ(eval("\"abc\" < \"abd\"", "boolean"), "true");
  EXPECT_EQ(eval("\"B\" < \"a\"", "boolean"), "true");
  EXPECT_EQ(eval("\"ab\" >= \"abc\"", "boolean"), "false");
  EXPECT_EQ(eval("\"x\" == \"x\"", "boolean"), "true");
  EXPECT_EQ(eval("\"x\" != \"x\"", "boolean"), "false");
}

TEST(Evaluator, TrimsWhitespace) {
  EXPECT_EQ(eval("\" \\t a b \\r\\n\".trim()", "string"), "a b");
  EXPECT_EQ(eval("\"   \".trim()", "string"), "");
}

TEST(Evaluator, CountsLengthInCodePoints) {
  EXPECT_EQ(eval("\"hello\".length()", "int"), "5");
  EXPECT_EQ(eval("\"h\\u{e9}llo\".length()", "int"), "5");
  EXPECT_EQ(eval("\"\\u{1F600}\".length()", "int"), "1");
  EXPECT_EQ(eval("\"\".length()", "int"), "0");
}

TEST(Evaluator, ChangesCaseOfAsciiLettersOnly) {
  EXPECT_EQ(eval("\"Hello, W\\u{e9}rld\".toUpperAscii()", "string"), "HELLO, W\xC3\xA9RLD");
  EXPECT_EQ(eval("\"Hello, \\u{c9}\".toLowerAscii()", "string"), "hello, \xC3\x89");
}

TEST(Evaluator, TestsPrefixesSuffixesAndContainment) {
  EXPECT_EQ(eval("\"hello\".startsWith(\"he\")", "boolean"), "true");
  EXPECT_EQ(eval("\"hello\".startsWith(\"lo\")", "boolean"), "false");
  EXPECT_EQ(eval("\"hello\".endsWith(\"lo\")", "boolean"), "true");
  EXPECT_EQ(eval("\"hello\".includes(\"ell\")", "boolean"), "true");
  EXPECT_EQ(eval("\"hello\".includes(\"l\", 4)", "boolean"), "false");
  EXPECT_EQ(eval("\"hello\".includes(\"\")", "boolean"), "true");
}

TEST(Evaluator, FindsIndexesInCodePoints) {
  EXPECT_EQ(eval("\"hello\".indexOf(\"l\") ?: -1", "int"), "2");
  EXPECT_EQ(eval("(\"hello\".indexOf(\"x\") ?: -1)", "int"), "-1");
  EXPECT_EQ(eval("\"h\\u{e9}llo\".indexOf(\"l\") ?: -1", "int"), "2");
  EXPECT_EQ(eval("\"hello\".indexOf(\"l\", 3) ?: -1", "int"), "3");
  EXPECT_EQ(eval("\"hello\".lastIndexOf(\"l\") ?: -1", "int"), "3");
  EXPECT_EQ(eval("\"hello\".indexOf(\"x\")", "int?"), "()");
}

TEST(Evaluator, PanicsOnAnIndexOfStartOutOfRange) {
  EXPECT_EQ(eval("\"abc\".indexOf(\"a\", 9) ?: -1", "int"),
            "ERROR: string:indexOf: string index out of range: index 9, length 3");
}

TEST(Evaluator, TakesSubstringsByCodePoint) {
  EXPECT_EQ(eval("\"hello\".substring(1, 3)", "string"), "el");
  EXPECT_EQ(eval("\"hello\".substring(3)", "string"), "lo");
  EXPECT_EQ(eval("\"hello\".substring(5)", "string"), "");
  EXPECT_EQ(eval("\"h\\u{e9}llo\".substring(1, 2)", "string"), "\xC3\xA9");
}

TEST(Evaluator, PanicsOnASubstringOutOfRange) {
  EXPECT_EQ(eval("\"hello\".substring(2, 10)", "string"),
            "ERROR: string:substring: substring index out of range: start 2, end 10, length 5");
  EXPECT_EQ(eval("\"hello\".substring(3, 1)", "string"),
            "ERROR: string:substring: substring index out of range: start 3, end 1, length 5");
  EXPECT_EQ(eval("\"hello\".substring(-1)", "string"),
            "ERROR: string:substring: substring index out of range: start -1, end 5, length 5");
}

TEST(Evaluator, IndexesStringsByCodePoint) {
  EXPECT_EQ(eval("\"h\\u{e9}llo\"[1]", "string"), "\xC3\xA9");
  EXPECT_EQ(eval("\"abc\"[3]", "string"), "ERROR: string index 3 out of range");
}

TEST(Evaluator, ComparesStringsIgnoringAsciiCase) {
  EXPECT_EQ(eval("\"HeLLo\".equalsIgnoreCaseAscii(\"hello\")", "boolean"), "true");
  EXPECT_EQ(eval("\"a\".equalsIgnoreCaseAscii(\"ab\")", "boolean"), "false");
}

// ---- conversions

TEST(Evaluator, ParsesInts) {
  EXPECT_EQ(eval("check int:fromString(\"42\")", "int"), "42");
  EXPECT_EQ(eval("check int:fromString(\"-7\")", "int"), "-7");
  EXPECT_EQ(eval("check int:fromString(\"+7\")", "int"), "7");
  EXPECT_EQ(eval("int:fromString(\"x\") is error", "boolean"), "true");
  EXPECT_EQ(eval("int:fromString(\"12\") is error", "boolean"), "false");
  EXPECT_EQ(eval("check int:fromString(\"x\")", "int"), "ERROR: 'x' is not an int");
  EXPECT_EQ(eval("check int:fromString(\"\")", "int"), "ERROR: '' is not an int");
  EXPECT_EQ(eval("check int:fromString(\" 1\")", "int"), "ERROR: ' 1' is not an int");
  EXPECT_EQ(eval("check int:fromString(\"1.5\")", "int"), "ERROR: '1.5' is not an int");
  EXPECT_EQ(eval("check int:fromString(\"9223372036854775808\")", "int"), "ERROR: '9223372036854775808' is not an int");
}

TEST(Evaluator, RefusesTwoSignsInIntFromString) {
  std::string got = eval("check int:fromString(\"+-5\")", "int");
  EXPECT_EQ(got, "ERROR: '+-5' is not an int");
}

TEST(Evaluator, ParsesFloats) {
  EXPECT_EQ(eval("check float:fromString(\"2.5\")", "float"), "2.5");
  EXPECT_EQ(eval("check float:fromString(\"1e3\")", "float"), "1000.0");
  EXPECT_EQ(eval("check float:fromString(\"-0.25\")", "float"), "-0.25");
  EXPECT_EQ(eval("check float:fromString(\"abc\")", "float"), "ERROR: 'abc' is not a float");
  EXPECT_EQ(eval("float:fromString(\"1.5x\") is error", "boolean"), "true");
}

TEST(Evaluator, CastsFloatToIntRoundingHalfToEven) {
  EXPECT_EQ(eval("<int>2.5", "int"), "2");
  EXPECT_EQ(eval("<int>3.5", "int"), "4");
  EXPECT_EQ(eval("<int>-2.5", "int"), "-2");
  EXPECT_EQ(eval("<int>2.4", "int"), "2");
  EXPECT_EQ(eval("<int>2.6", "int"), "3");
}

TEST(Evaluator, PanicsCastingAnUnrepresentableFloatToInt) {
  EXPECT_EQ(eval("<int>(1.0 / 0.0)", "int"), "ERROR: cannot convert Infinity to int");
  EXPECT_EQ(eval("<int>(0.0 / 0.0)", "int"), "ERROR: cannot convert NaN to int");
  EXPECT_EQ(eval("<int>1e19", "int"), "ERROR: cannot convert 1.0E19 to int");
}

TEST(Evaluator, CastsIntToFloatAndToByte) {
  EXPECT_EQ(eval("<float>3", "float"), "3.0");
  EXPECT_EQ(eval("<float>3 / 2", "float"), "1.5");
  EXPECT_EQ(eval("<byte>255", "byte"), "255");
  EXPECT_EQ(eval("<byte>256", "byte"), "ERROR: cannot convert 256 to byte");
  EXPECT_EQ(eval("<byte>-1", "byte"), "ERROR: cannot convert -1 to byte");
}

TEST(Evaluator, ConvertsValuesToStrings) {
  EXPECT_EQ(eval("(12).toString()", "string"), "12");
  EXPECT_EQ(eval("(1.0).toString()", "string"), "1.0");
  EXPECT_EQ(eval("true.toString()", "string"), "true");
  EXPECT_EQ(eval("[1, 2].toString()", "string"), "[1,2]");
  EXPECT_EQ(eval("[\"a\", \"b\"].toString()", "string"), "[\"a\",\"b\"]");
  EXPECT_EQ(eval("{\"k\": 1}.toString()", "string"), "{\"k\":1}");
}

// ---- bytes

TEST(Evaluator, DecodesValidUtf8Bytes) {
  EXPECT_EQ(eval("check string:fromBytes([104, 105])", "string"), "hi");
  EXPECT_EQ(eval("check string:fromBytes([0xC3, 0xA9])", "string"), "\xC3\xA9");
  EXPECT_EQ(eval("check string:fromBytes([])", "string"), "");
}

TEST(Evaluator, GivesAnErrorValueForInvalidUtf8) {
  EXPECT_EQ(eval("string:fromBytes([255]) is error", "boolean"), "true");
  EXPECT_EQ(eval("check string:fromBytes([104, 255])", "string"),
            "ERROR: invalid UTF-8 sequence at byte offset 1 of 2");
  EXPECT_EQ(eval("string:fromBytes([104]) is error", "boolean"), "false");
}

TEST(Evaluator, EncodesStringsAsUtf8Bytes) {
  EXPECT_EQ(eval("\"h\\u{e9}llo\".toBytes().length()", "int"), "6");
  EXPECT_EQ(eval("\"\".toBytes().length()", "int"), "0");
  EXPECT_EQ(eval("\"AB\".toBytes()[1]", "byte"), "66");
  EXPECT_EQ(eval("check string:fromBytes(\"ok\".toBytes())", "string"), "ok");
}

TEST(Evaluator, RefusesAByteListElementOutOfRange) {
  EXPECT_THAT(eval("[1, 256]", "byte[]"), StartsWith("LOAD ERROR: E208 an element of this list must be byte"));
}

TEST(Evaluator, PanicsIndexingBytesOutOfRange) {
  EXPECT_EQ(eval("\"AB\".toBytes()[2]", "byte"), "ERROR: index 2 out of range for byte[] of length 2");
}

// ---- booleans

TEST(Evaluator, ShortCircuitsAnd) {
  EXPECT_EQ(eval("false && (1 / 0 == 1)", "boolean"), "false");
  EXPECT_EQ(eval("true && (1 / 0 == 1)", "boolean"), "ERROR: division by zero");
  EXPECT_EQ(eval("true && true", "boolean"), "true");
  EXPECT_EQ(eval("true && false", "boolean"), "false");
}

TEST(Evaluator, ShortCircuitsOr) {
  EXPECT_EQ(eval("true || (1 / 0 == 1)", "boolean"), "true");
  EXPECT_EQ(eval("false || (1 / 0 == 1)", "boolean"), "ERROR: division by zero");
  EXPECT_EQ(eval("false || false", "boolean"), "false");
  EXPECT_EQ(eval("false || true && false", "boolean"), "false");
}

TEST(Evaluator, NegatesBooleans) {
  EXPECT_EQ(eval("!true", "boolean"), "false");
  EXPECT_EQ(eval("!(1 > 2)", "boolean"), "true");
}

TEST(Evaluator, ComparesNumbers) {
  EXPECT_EQ(eval("1 < 2", "boolean"), "true");
  EXPECT_EQ(eval("2 <= 2", "boolean"), "true");
  EXPECT_EQ(eval("1.5 > 2.5", "boolean"), "false");
  EXPECT_EQ(eval("(0.0 / 0.0) < 1.0", "boolean"), "false");
  EXPECT_EQ(eval("(0.0 / 0.0) >= 1.0", "boolean"), "false");
}

// ---- conditional and elvis

TEST(Evaluator, EvaluatesOnlyTheChosenBranchOfAConditional) {
  EXPECT_EQ(eval("1 < 2 ? \"yes\" : \"no\"", "string"), "yes");
  EXPECT_EQ(eval("1 > 2 ? \"yes\" : \"no\"", "string"), "no");
  EXPECT_EQ(eval("true ? 1 : 1 / 0", "int"), "1");
  EXPECT_EQ(eval("false ? 1 : true ? 2 : 3", "int"), "2");
}

TEST(Evaluator, UsesTheDefaultOfElvisOnlyForNil) {
  EXPECT_EQ(eval("() ?: 5", "int"), "5");
  EXPECT_EQ(eval("() ?: () ?: 7", "int"), "7");
  EXPECT_EQ(eval("\"a\".indexOf(\"a\") ?: 1 / 0", "int"), "0");
}

// ---- lists and maps

TEST(Evaluator, IndexesListLiterals) {
  EXPECT_EQ(eval("[1, 2, 3][1]", "int"), "2");
  EXPECT_EQ(eval("[[1], [2, 3]][1][0]", "int"), "2");
  EXPECT_EQ(eval("[\"a\", \"b\"][0]", "string"), "a");
  EXPECT_EQ(eval("[1, 2, 3].length()", "int"), "3");
}

TEST(Evaluator, PanicsIndexingAListOutOfRange) {
  EXPECT_EQ(eval("[1, 2, 3][3]", "int"), "ERROR: index 3 out of range for a list of length 3");
  EXPECT_EQ(eval("[1, 2, 3][-1]", "int"), "ERROR: index -1 out of range for a list of length 3");
}

TEST(Evaluator, LooksUpMapEntriesAsOptionalValues) {
  EXPECT_EQ(eval("{\"a\": 1}[\"a\"] ?: 0", "int"), "1");
  EXPECT_EQ(eval("{\"a\": 1}[\"b\"] ?: 0", "int"), "0");
  EXPECT_EQ(eval("{a: 1, b: 2}[\"b\"] ?: 0", "int"), "2");
  EXPECT_EQ(eval("{\"a\": 1}[\"b\"]", "int?"), "()");
}

TEST(Evaluator, KeepsTheLastOfDuplicateMapKeys) {
  EXPECT_EQ(eval("{a: 1, a: 2}[\"a\"] ?: 0", "int"), "2");
  EXPECT_EQ(eval("{a: 1, b: 3, a: 2}", "map<int>"), "{\"a\":2,\"b\":3}");
}

TEST(Evaluator, DisplaysListsAndMaps) {
  EXPECT_EQ(eval("[1, 2]", "int[]"), "[1,2]");
  EXPECT_EQ(eval("{x: \"s\", y: \"t\"}", "map<string>"), "{\"x\":\"s\",\"y\":\"t\"}");
  EXPECT_EQ(eval("[104, 105]", "byte[]"), "[104,105]");
}

TEST(Evaluator, ComparesListsAndMapsDeeply) {
  EXPECT_EQ(eval("[1, 2] == [1, 2]", "boolean"), "true");
  EXPECT_EQ(eval("[1, 2] == [2, 1]", "boolean"), "false");
  EXPECT_EQ(eval("[[1], [2]] == [[1], [2]]", "boolean"), "true");
  EXPECT_EQ(eval("{a: 1, b: 2} == {b: 2, a: 1}", "boolean"), "true");
  EXPECT_EQ(eval("{a: 1} == {a: 2}", "boolean"), "false");
  EXPECT_EQ(eval("{a: 1} != {a: 1, b: 1}", "boolean"), "true");
}

TEST(Evaluator, ComparesListsByIdentityWithTripleEquals) {
  EXPECT_EQ(eval("[1, 2] === [1, 2]", "boolean"), "false");
  EXPECT_EQ(eval("\"ab\" === \"a\" + \"b\"", "boolean"), "true");
  EXPECT_EQ(eval("1 !== 1", "boolean"), "false");
}

TEST(Evaluator, RefusesAnEmptyListWithoutAType) {
  EXPECT_THAT(eval("[]", "var"), HasSubstr("E208 the type of an empty [] cannot be inferred"));
  EXPECT_EQ(eval("[]", "int[]"), "[]");
}

// ---- type tests

TEST(Evaluator, TestsTypesWithIs) {
  EXPECT_EQ(eval("1 is int", "boolean"), "true");
  EXPECT_EQ(eval("1 is string", "boolean"), "false");
  EXPECT_EQ(eval("\"a\" is string|int", "boolean"), "true");
  EXPECT_EQ(eval("() is ()", "boolean"), "true");
  EXPECT_EQ(eval("error(\"x\") is error", "boolean"), "true");
  EXPECT_EQ(eval("[1] is int[]", "boolean"), "true");
  EXPECT_EQ(eval("200 is byte", "boolean"), "true");
  EXPECT_EQ(eval("300 is byte", "boolean"), "false");
  EXPECT_EQ(eval("\"a\".indexOf(\"z\") is int", "boolean"), "false");
}

TEST(Evaluator, MakesErrorsWithMessagesAndCauses) {
  EXPECT_EQ(eval("error(\"boom\").message()", "string"), "boom");
  EXPECT_EQ(eval("error(\"outer\", error(\"inner\")).cause() is error", "boolean"), "true");
  EXPECT_EQ(eval("error(\"a\").toString()", "string"), "error(\"a\")");
}

TEST(Evaluator, ReadsCallerFields) {
  EXPECT_EQ(eval("caller.remoteHost", "string"), "127.0.0.1");
  EXPECT_EQ(eval("caller.remotePort", "int"), "5555");
  EXPECT_EQ(eval("caller.localPort", "int"), "3000");
  EXPECT_EQ(eval("caller.id", "string"), "abc");
}

TEST(Evaluator, ReadsConfigurables) {
  LoadResult r = load(FlowBuilder({log_info("string `${port + 1} ${host}`")})
                          .configurable("port", "int", "3000")
                          .configurable("host", "string", "\"h\"")
                          .text());
  ASSERT_TRUE(r.ok()) << describe(r);
  Runner run(*r.program);
  RunOutcome o = run.on_bytes("");
  ASSERT_FALSE(o.panicked) << o.panic_message;
  EXPECT_THAT(run.host.messages(), ::testing::ElementsAre("3001 h"));
}

// ---- the step budget

TEST(Evaluator, StopsAnEventThatExceedsTheStepBudget) {
  std::string sum = "1";
  for (int i = 0; i < 40; ++i) sum += " + 1";
  EXPECT_EQ(eval(sum, "int"), "41");
  std::string got = eval(sum, "int", 50);
  EXPECT_THAT(got, StartsWith("ERROR: "));
  EXPECT_THAT(got, HasSubstr("more than 50 evaluation steps"));
  EXPECT_THAT(got, HasSubstr("step budget"));
}

TEST(Evaluator, CountsOneStepPerInstruction) {
  LoadResult r = load(FlowBuilder().text());  // onBytes is a single ReturnNil
  ASSERT_TRUE(r.ok());
  Runner run(*r.program);
  run.interp.step_budget = 1;
  RunOutcome ok = run.on_bytes("");
  EXPECT_FALSE(ok.panicked) << ok.panic_message;
}

TEST(Evaluator, ReportsTheBudgetAtTheStartOfAnInitializer) {
  // The budget can run out on the first instruction of a frame (here a class initializer entered
  // by `new`): the panic names that instruction's node.
  LoadResult r = load(FlowBuilder({variable("o", "C", "new C()")}).class_variable("n", "int", "1 + 1").text());
  ASSERT_TRUE(r.ok()) << describe(r);
  Runner run(*r.program);
  run.instance = run.new_instance();  // made before the budget is cut
  run.interp.step_budget = 1;  // `new C()` runs, then C.init's first instruction is over budget
  RunOutcome o = run.on_bytes("");
  EXPECT_TRUE(o.panicked);
  EXPECT_THAT(o.panic_message, HasSubstr("step budget"));
}

TEST(Evaluator, ReportsABudgetOfZeroAtTheFirstInstruction) {
  LoadResult r = load(FlowBuilder({variable("x", "int", "1")}).text());
  ASSERT_TRUE(r.ok()) << describe(r);
  Runner run(*r.program);
  run.interp.step_budget = 0;
  RunOutcome o = run.on_bytes("");
  EXPECT_TRUE(o.panicked);
  EXPECT_THAT(o.panic_message, HasSubstr("step budget"));
}

}  // namespace
}  // namespace flowd::test

namespace flowd::test {
namespace {
// byte[] values share StrObj's representation with strings, not ArrayObj's: list functions that accept
// a byte[] must read the bytes (reverse once read the buffer as a list).
TEST(Evaluator, ReversesAndMeasuresByteArrays) {
  EXPECT_EQ(eval("string:fromBytes(\"abc\".toBytes().reverse())", "string|error"), "cba");
  EXPECT_EQ(eval("\"abc\".toBytes().reverse().length()", "int"), "3");
  EXPECT_EQ(eval("\"\".toBytes().reverse().length()", "int"), "0");
  EXPECT_EQ(eval("\"abc\".toBytes().reverse()[0]", "int"), "99");
}
}  // namespace
}  // namespace flowd::test
