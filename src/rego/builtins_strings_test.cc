#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins.h"
#include "rego/builtins_test_util.h"

namespace mcpgw::rego {
namespace {

using builtin_testing::Call;

Value S(std::string s) { return Value::String(std::move(s)); }
Value I(int64_t i) { return Value::Int(i); }
Value J(std::string_view json) {
  auto v = Value::ParseJson(json);
  EXPECT_TRUE(v.ok()) << json;
  return v.ok() ? *v : Value();
}
Value SetOf(std::vector<Value> items) { return Value::FromSet(Set(items.begin(), items.end())); }

// The value of a successful call, as JSON text (or the error, for a readable failure).
std::string Ok(const Result<Value>& r) {
  if (!r.ok()) return "ERROR(" + std::to_string(r.error().code) + "): " + r.error().message;
  return r->ToJson();
}

std::string Str(const Result<Value>& r) {
  if (!r.ok()) return "ERROR: " + r.error().message;
  if (!r->is_string()) return "NOT A STRING: " + r->ToJson();
  return r->str();
}

// Expects an error of the given code whose message contains `text`.
void ExpectError(const Result<Value>& r, int code, std::string_view text) {
  ASSERT_FALSE(r.ok()) << r->ToJson();
  EXPECT_EQ(r.error().code, code) << r.error().message;
  EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
}

std::string Sprintf(std::string_view format, std::string_view args_json) {
  return Str(Call("sprintf", {S(std::string(format)), J(args_json)}));
}

TEST(StringBuiltinsTest, ContainsStartsEndsWith) {
  EXPECT_EQ(Ok(Call("contains", {S("abcdefgh"), S("defg")})), "true");
  EXPECT_EQ(Ok(Call("contains", {S("abcdefgh"), S("ac")})), "false");
  EXPECT_EQ(Ok(Call("startswith", {S("abcdefgh"), S("abc")})), "true");
  EXPECT_EQ(Ok(Call("startswith", {S("abcdefgh"), S("bcd")})), "false");
  EXPECT_EQ(Ok(Call("endswith", {S("abcdefgh"), S("fgh")})), "true");
  EXPECT_EQ(Ok(Call("endswith", {S("abcdefgh"), S("fg")})), "false");
  ExpectError(Call("contains", {I(1), S("a")}), kTypeError,
              "contains: operand 1 must be string but got number");
}

TEST(StringBuiltinsTest, Concat) {
  EXPECT_EQ(Str(Call("concat", {S("/"), J(R"(["", "foo", "bar", "0", "baz"])")})),
            "/foo/bar/0/baz");
  EXPECT_EQ(Str(Call("concat", {S(","), SetOf({S("b"), S("a")})})), "a,b");
  EXPECT_EQ(Str(Call("concat", {S(","), J("[]")})), "");
  ExpectError(Call("concat", {S(","), J(R"(["a", 1])")}), kTypeError,
              "operand 2 must be array of strings but got array containing number");
  ExpectError(Call("concat", {S(","), S("x")}), kTypeError,
              "operand 2 must be one of {set, array} but got string");
}

TEST(StringBuiltinsTest, FormatInt) {
  EXPECT_EQ(Str(Call("format_int", {Value::Double(3.1), I(10)})), "3");
  EXPECT_EQ(Str(Call("format_int", {Value::Double(-3.9), I(10)})), "-3");
  EXPECT_EQ(Str(Call("format_int", {I(255), I(16)})), "ff");
  EXPECT_EQ(Str(Call("format_int", {I(-255), I(16)})), "-ff");
  EXPECT_EQ(Str(Call("format_int", {I(8), I(8)})), "10");
  EXPECT_EQ(Str(Call("format_int", {I(5), I(2)})), "101");
  ExpectError(Call("format_int", {Value::Double(4.1), I(199)}), kTypeError,
              "operand 2 must be one of {2, 8, 10, 16}");
}

TEST(StringBuiltinsTest, IndexOfCountsCodePoints) {
  EXPECT_EQ(Ok(Call("indexof", {S("abcabcabcdefgh"), S("cde")})), "8");
  EXPECT_EQ(Ok(Call("indexof", {S("μx"), S("x")})), "1");
  EXPECT_EQ(Ok(Call("indexof", {S("μ"), S("μμ")})), "-1");
  EXPECT_EQ(Ok(Call("indexof", {S("skön var våren"), S("vår")})), "9");
  EXPECT_EQ(Ok(Call("indexof", {S("🍧🍨🧁🍰🍮"), S("🍮")})), "4");
  ExpectError(Call("indexof", {S("abc"), S("")}), kBuiltinError, "empty search character");
  EXPECT_EQ(Ok(Call("indexof_n", {S("sad book"), S("oo")})), "[5]");
  EXPECT_EQ(Ok(Call("indexof_n", {S("aaa"), S("aa")})), "[0,1]");
  EXPECT_EQ(Ok(Call("indexof_n", {S("åäå"), S("å")})), "[0,2]");
}

TEST(StringBuiltinsTest, LowerUpperHandleUnicode) {
  EXPECT_EQ(Str(Call("lower", {S("AbCdEf")})), "abcdef");
  EXPECT_EQ(Str(Call("upper", {S("AbCdEf")})), "ABCDEF");
  EXPECT_EQ(Str(Call("upper", {S("åäö straße")})), "ÅÄÖ STRAßE");
  EXPECT_EQ(Str(Call("lower", {S("ÅÄÖ ΣΑΣ ПРИВЕТ")})), "åäö σασ привет");
  EXPECT_EQ(Str(Call("upper", {S("привет ς")})), "ПРИВЕТ Σ");
  EXPECT_EQ(Str(Call("lower", {S("A\xff")})), "a\uFFFD");  // invalid UTF-8 -> U+FFFD, as in Go
}

TEST(StringBuiltinsTest, Replace) {
  EXPECT_EQ(Str(Call("replace", {S(""), S("hi"), S("bye")})), "");
  EXPECT_EQ(Str(Call("replace", {S("foo.bar.baz"), S("."), S(",")})), "foo,bar,baz");
  EXPECT_EQ(Str(Call("replace", {S("foo...bar"), S(".."), S(",,")})), "foo,,.bar");
  EXPECT_EQ(Str(Call("replace", {S("abc"), S(""), S("-")})), "-a-b-c-");
}

TEST(StringBuiltinsTest, ReplaceN) {
  EXPECT_EQ(Str(Call("strings.replace_n",
                     {J(R"({"old1": "new1", "old2": "new2"})"), S("Everything is new1, new2")})),
            "Everything is new1, new2");
  EXPECT_EQ(Str(Call("strings.replace_n",
                     {J(R"({"a": "b", "b": "a"})"), S("abba")})),  // one pass, no re-replacing
            "baab");
  Object bad_key;
  bad_key.emplace(I(2), S("x"));
  ExpectError(Call("strings.replace_n", {Value::FromObject(bad_key), S("foo")}), kTypeError,
              "strings.replace_n: operand 1 non-string key found in pattern object");
  ExpectError(Call("strings.replace_n", {J(R"({"f": 100})"), S("foo")}), kTypeError,
              "strings.replace_n: operand 1 non-string value found in pattern object");
  ExpectError(Call("strings.replace_n", {J(R"({"foo": "baz"})"), I(100)}), kTypeError,
              "strings.replace_n: operand 2 must be string but got number");
}

TEST(StringBuiltinsTest, Split) {
  EXPECT_EQ(Ok(Call("split", {S(""), S(".")})), R"([""])");
  EXPECT_EQ(Ok(Call("split", {S("test"), S("")})), R"(["t","e","s","t"])");
  EXPECT_EQ(Ok(Call("split", {S(""), S("")})), "[]");
  EXPECT_EQ(Ok(Call("split", {S("foo.bar.baz"), S(".")})), R"(["foo","bar","baz"])");
  EXPECT_EQ(Ok(Call("split", {S("a..b"), S(".")})), R"(["a","","b"])");
}

TEST(StringBuiltinsTest, Substring) {
  EXPECT_EQ(Str(Call("substring", {S("abcdefgh"), I(2), I(3)})), "cde");
  EXPECT_EQ(Str(Call("substring", {S("åäö"), I(0), I(2)})), "åä");
  EXPECT_EQ(Str(Call("substring", {S("aåäö"), I(2), I(-1)})), "äö");
  EXPECT_EQ(Str(Call("substring", {S("abcdefghåäö"), I(2), I(10000)})), "cdefghåäö");
  EXPECT_EQ(Str(Call("substring", {S("åäö"), I(3), I(-1)})), "");
  EXPECT_EQ(Str(Call("substring", {S("aaa"), I(4), I(-1)})), "");
  ExpectError(Call("substring", {S("åäö"), I(-1), I(-1)}), kBuiltinError, "negative offset");
  ExpectError(Call("substring", {S("abc"), Value::Double(1.5), I(1)}), kTypeError,
              "operand 2 must be integer number but got floating-point number");
}

TEST(StringBuiltinsTest, TrimFamily) {
  EXPECT_EQ(Str(Call("trim", {S("...foo.bar..."), S(".fr")})), "oo.ba");
  EXPECT_EQ(Str(Call("trim", {S("¡¡¡foo, bar!!!"), S("!¡")})), "foo, bar");
  EXPECT_EQ(Str(Call("trim", {S("¡¡¡foo, bar!!!"), S("i")})), "¡¡¡foo, bar!!!");
  EXPECT_EQ(Str(Call("trim_left", {S("¡¡¡foo, bar!!!"), S("!¡")})), "foo, bar!!!");
  EXPECT_EQ(Str(Call("trim_right", {S("¡¡¡foo, bar!!!"), S("!¡")})), "¡¡¡foo, bar");
  EXPECT_EQ(Str(Call("trim_prefix", {S("¡¡¡foo, bar!!!"), S("¡¡¡foo")})), ", bar!!!");
  EXPECT_EQ(Str(Call("trim_prefix", {S("¡¡¡foo, bar!!!"), S("¡¡¡bar")})), "¡¡¡foo, bar!!!");
  EXPECT_EQ(Str(Call("trim_suffix", {S("¡¡¡foo, bar!!!"), S(", bar!!!")})), "¡¡¡foo");
  EXPECT_EQ(Str(Call("trim_space", {S(" \t\n foo, bar \n\t\r\n")})), "foo, bar");
  EXPECT_EQ(Str(Call("trim_space", {S("\u00a0x\u3000")})), "x");
}

TEST(StringBuiltinsTest, ReverseAndCount) {
  EXPECT_EQ(Str(Call("strings.reverse", {S("bar")})), "rab");
  EXPECT_EQ(Str(Call("strings.reverse", {S("1\U0001F600\U0001D6FE")})), "\U0001D6FE\U0001F6001");
  ExpectError(Call("strings.reverse", {I(123)}), kTypeError,
              "reverse: operand 1 must be string but got number");
  EXPECT_EQ(Ok(Call("strings.count", {S("cheese"), S("e")})), "3");
  EXPECT_EQ(Ok(Call("strings.count", {S("dummy"), S("")})), "6");
  EXPECT_EQ(Ok(Call("strings.count", {S(""), S("")})), "1");
  EXPECT_EQ(Ok(Call("strings.count", {S("11111"), S("11")})), "2");
}

TEST(StringBuiltinsTest, AnyPrefixAndSuffixMatch) {
  EXPECT_EQ(
      Ok(Call("strings.any_prefix_match", {J(R"(["a/b/c", "e/f/g"])"), J(R"(["x/", "e/"])")})),
      "true");
  EXPECT_EQ(Ok(Call("strings.any_prefix_match", {J(R"(["a/b/c"])"), J("[]")})), "false");
  EXPECT_EQ(Ok(Call("strings.any_prefix_match", {S("a/b/c"), SetOf({S("a/")})})), "true");
  EXPECT_EQ(Ok(Call("strings.any_suffix_match", {J(R"(["a/b/c"])"), S("/c")})), "true");
  EXPECT_EQ(Ok(Call("strings.any_suffix_match", {S("a/b/g"), J(R"(["/c", "/a"])")})), "false");
  ExpectError(Call("strings.any_prefix_match", {J("[1, 2]"), J(R"(["a"])")}), kTypeError,
              "strings.any_prefix_match: operand 1 must be array of strings but got array "
              "containing number");
  ExpectError(Call("strings.any_suffix_match", {J(R"(["a"])"), I(1)}), kTypeError,
              "strings.any_suffix_match: operand 2 must be one of {string, set, array} but got "
              "number");
}

TEST(SprintfTest, BasicVerbs) {
  EXPECT_EQ(Sprintf("hi", "[]"), "hi");
  EXPECT_EQ(Sprintf("hi %s", R"(["there"])"), "hi there");
  EXPECT_EQ(Sprintf("hi %02d", "[5]"), "hi 05");
  EXPECT_EQ(Sprintf("hi %02X.%02X", "[127, 1]"), "hi 7F.01");
  EXPECT_EQ(Sprintf("hi %v", R"([["there", 5, 3.14]])"), R"(hi ["there", 5, 3.14])");
  EXPECT_EQ(Sprintf("%d%%", "[50]"), "50%");
  EXPECT_EQ(Sprintf("%x %o %b", "[255, 8, 5]"), "ff 10 101");
  EXPECT_EQ(Sprintf("%q", R"(["a\"b"])"), R"("a\"b")");
  EXPECT_EQ(Sprintf("%v %v", R"([true, null])"), "true null");
  EXPECT_EQ(Sprintf("%v", R"([{"a": [1]}])"), R"({"a": [1]})");
  EXPECT_EQ(Sprintf("%-5s|%5s|", R"(["ab", "cd"])"), "ab   |   cd|");
  EXPECT_EQ(Sprintf("%.2s", R"(["åäö"])"), "åä");
  EXPECT_EQ(Sprintf("%+d % d %5d|%-5d|", "[3, 4, -5, 6]"), "+3  4    -5|6    |");
}

TEST(SprintfTest, Floats) {
  EXPECT_EQ(Sprintf("%f", "[3.14]"), "3.140000");
  EXPECT_EQ(Sprintf("%.2f", "[3.14159]"), "3.14");
  EXPECT_EQ(Sprintf("%e", "[1234.5]"), "1.234500e+03");
  EXPECT_EQ(Sprintf("%g", "[0.000012]"), "1.2e-05");
  EXPECT_EQ(Sprintf("%v", "[1234567.5]"), "1.2345675e+06");
  EXPECT_EQ(Sprintf("%v", "[0.1]"), "0.1");
  EXPECT_EQ(Sprintf("%08.3f", "[-3.14159]"), "-003.142");
  EXPECT_EQ(Sprintf("%.1f", "[2]"), "%!f(int=2)");
}

TEST(SprintfTest, GoErrorsForBadArguments) {
  EXPECT_EQ(Sprintf("%s", "[5]"), "%!s(int=5)");
  EXPECT_EQ(Sprintf("%d", R"(["x"])"), "%!d(string=x)");
  EXPECT_EQ(Sprintf("%t", "[true]"), "%!t(string=true)");
  EXPECT_EQ(Sprintf("%d %d", "[1]"), "1 %!d(MISSING)");
  EXPECT_EQ(Sprintf("%d", R"([1, "a"])"), "1%!(EXTRA string=a)");
  EXPECT_EQ(Sprintf("abc%", "[]"), "abc%!(NOVERB)");
  EXPECT_EQ(Sprintf("%[2]d %[1]d", "[1, 2]"), "2 1");
  ExpectError(Call("sprintf", {S("%d"), I(1)}), kTypeError,
              "sprintf: operand 2 must be array but got number");
}

TEST(SprintfTest, LargeIntegersPrintAllDigits) {
  EXPECT_EQ(Str(Call("sprintf", {S("%s"), Value::FromArray({Value::Double(1e20)})})),
            "100000000000000000000");
  EXPECT_EQ(Str(Call("sprintf", {S("%d"), Value::FromArray({Value::Double(-1e20)})})),
            "-100000000000000000000");
}

TEST(RegexTest, Match) {
  EXPECT_EQ(Ok(Call("regex.match", {S("^[a-z]+\\[[0-9]+\\]$"), S("foo[1]")})), "true");
  EXPECT_EQ(Ok(Call("regex.match", {S(""), S("x")})), "true");
  EXPECT_EQ(Ok(Call("regex.match", {S("^$"), S("something")})), "false");
  ExpectError(Call("regex.match", {S("$^[[["), S("something")}), kBuiltinError, "regex.match");
  EXPECT_EQ(Ok(Call("re_match", {S("b+"), S("abbc")})), "true");
  EXPECT_EQ(Ok(Call("regex.is_valid", {S(".+")})), "true");
  EXPECT_EQ(Ok(Call("regex.is_valid", {S("++")})), "false");
  EXPECT_EQ(Ok(Call("regex.is_valid", {I(1)})), "false");
}

TEST(RegexTest, FindN) {
  EXPECT_EQ(Ok(Call("regex.find_n", {S("a."), S("paranormal"), I(-1)})), R"(["ar","an","al"])");
  EXPECT_EQ(Ok(Call("regex.find_n", {S("a."), S("paranormal"), I(2)})), R"(["ar","an"])");
  EXPECT_EQ(Ok(Call("regex.find_n", {S("a."), S("paranormal"), I(0)})), "[]");
  EXPECT_EQ(Ok(Call("regex.find_n", {S("^a."), S("abacadaeaf"), I(-1)})), R"(["ab"])");
  EXPECT_EQ(Ok(Call("regex.find_n", {S(".$"), S("abacadaeaf"), I(-1)})), R"(["f"])");
  EXPECT_EQ(Ok(Call("regex.find_n", {S("[abcdef]{2}"), S("abacadaeaf"), I(-1)})),
            R"(["ab","ac","ad","ae","af"])");
  EXPECT_EQ(Ok(Call("regex.find_n", {S("bork"), S("paranormal"), I(-1)})), "[]");
  // Empty matches: Go skips an empty match right after a previous match.
  EXPECT_EQ(Ok(Call("regex.find_n", {S("a*"), S("baaac"), I(-1)})), R"(["","aaa",""])");
}

TEST(RegexTest, FindAllStringSubmatch) {
  EXPECT_EQ(Ok(Call("regex.find_all_string_submatch_n", {S("a(x*)b"), S("-ab-axb-"), I(-1)})),
            R"([["ab",""],["axb","x"]])");
  EXPECT_EQ(Ok(Call("regex.find_all_string_submatch_n",
                    {S("[^aouiye]([aouiye])([^aouiye])?"), S("somestri"), I(1)})),
            R"([["som","o","m"]])");
  EXPECT_EQ(Ok(Call("regex.find_all_string_submatch_n", {S("a(b)?"), S("a"), I(-1)})),
            R"([["a",""]])");
}

TEST(RegexTest, Split) {
  EXPECT_EQ(Ok(Call("regex.split", {S("^[a-z]+\\[[0-9]+\\]$"), S("")})), R"([""])");
  EXPECT_EQ(Ok(Call("regex.split", {S("^[a-z]+"), S("foobar baz")})), R"([""," baz"])");
  EXPECT_EQ(Ok(Call("regex.split", {S("[a-z]+$"), S("foobar baz")})), R"(["foobar ",""])");
  EXPECT_EQ(Ok(Call("regex.split", {S("^[a-z]+$"), S("foobar baz")})), R"(["foobar baz"])");
  EXPECT_EQ(Ok(Call("regex.split", {S("^[a-z ]+$"), S("foobar baz")})), R"(["",""])");
  EXPECT_EQ(Ok(Call("regex.split", {S("a"), S("banana")})), R"(["b","n","n",""])");
}

TEST(RegexTest, Replace) {
  EXPECT_EQ(Str(Call("regex.replace", {S("-wy-wxxy-"), S("w(x*)y"), S("0")})), "-0-0-");
  EXPECT_EQ(Str(Call("regex.replace", {S("foo"), S("(foo)"), S("$1$1")})), "foofoo");
  EXPECT_EQ(Str(Call("regex.replace", {S("foo"), S("^[a-z]"), S("F")})), "Foo");
  EXPECT_EQ(Str(Call("regex.replace", {S("foo"), S("^[a-z]$"), S("F")})), "foo");
  EXPECT_EQ(Str(Call("regex.replace", {S("foo"), S("^[a-z]+$"), S("M")})), "M");
  EXPECT_EQ(Str(Call("regex.replace", {S("foo"), S("[a-z]$"), S("F")})), "foF");
  EXPECT_EQ(Str(Call("regex.replace", {S("foo bar"), S("[a-z]"), S("_")})), "___ ___");
  EXPECT_EQ(Str(Call("regex.replace", {S("foo barx"), S("[a-z]{3}"), S("_")})), "_ _x");
  EXPECT_EQ(Str(Call("regex.replace", {S("foo barx"), S("[a-z]{2}"), S("_")})), "_o __");
  EXPECT_EQ(Str(Call("regex.replace", {S("ab"), S("x*"), S("-")})), "-a-b-");
  EXPECT_EQ(Str(Call("regex.replace", {S("k=v"), S("(?P<k>\\w+)=(?P<v>\\w+)"), S("${v}=$k $$")})),
            "v=k $");
  EXPECT_EQ(Str(Call("regex.replace", {S("ab"), S("(a)"), S("$1x")})), "b");  // $1x is ${1x}
  ExpectError(Call("regex.replace", {S("foo"), S("["), S("$1")}), kBuiltinError, "regex.replace");
}

TEST(RegexTest, TemplateMatch) {
  EXPECT_EQ(
      Ok(Call("regex.template_match", {S("urn:foo:{.*}"), S("urn:foo:bar:baz"), S("{"), S("}")})),
      "true");
  EXPECT_EQ(
      Ok(Call("regex.template_match", {S("urn:foo:<.*>"), S("urn:foo:bar:baz"), S("<"), S(">")})),
      "true");
  EXPECT_EQ(Ok(Call("regex.template_match",
                    {S("urn:foo.bar:<[0-9]{2}>"), S("urn:fooXbar:12"), S("<"), S(">")})),
            "false");
  ExpectError(Call("regex.template_match", {S("urn:{.*"), S("x"), S("{"), S("}")}), kBuiltinError,
              "unbalanced braces");
  ExpectError(Call("regex.template_match", {S("x"), S("x"), S("{{"), S("}")}), kBuiltinError,
              "start delimiter has to be exactly one character long but is 2 long");
}

TEST(RegexTest, GlobsMatch) {
  EXPECT_EQ(Ok(Call("regex.globs_match", {S("a.a.[0-9]+z"), S(".b.b2359825792*594823z")})), "true");
  EXPECT_EQ(Ok(Call("regex.globs_match", {S("b.*"), S("bar")})), "true");
  EXPECT_EQ(Ok(Call("regex.globs_match", {S("[a-z]+\\[[0-9]+\\]"), S("foo\\[1\\]")})), "true");
  EXPECT_EQ(Ok(Call("regex.globs_match", {S("[a-z]+\\[[0-9]+\\]"), S("foo[\"bar\"]")})), "false");
  EXPECT_EQ(Ok(Call("regex.globs_match", {S("[a-z]+"), S("[0-9]*")})), "false");
  EXPECT_EQ(Ok(Call("regex.globs_match", {S("a.a."), S(".b.b")})), "true");
  ExpectError(Call("regex.globs_match", {S("pqrs]"), S("[a-b]+")}), kBuiltinError,
              "input:pqrs], pos:5, set-close ']' with no preceding '[': the input provided is "
              "invalid");
  ExpectError(Call("regex.globs_match", {S("+a"), S("a")}), kBuiltinError,
              "flag '+' must be preceded by a non-flag");
}

TEST(GlobTest, Match) {
  auto match = [](std::string pattern, const Value& delims, std::string s) {
    return Ok(Call("glob.match", {S(std::move(pattern)), delims, S(std::move(s))}));
  };
  Value dot = J(R"(["."])");
  Value none = J("[]");
  EXPECT_EQ(match("*.github.com", dot, "api.github.com"), "true");
  EXPECT_EQ(match("*.github.com", dot, "api.not-github.com"), "false");
  EXPECT_EQ(match("*.github.com", dot, "api.cdn.github.com"), "false");
  EXPECT_EQ(match("api.**.com", dot, "api.cdn.github.com"), "true");
  EXPECT_EQ(match("[!abc]at", none, "fat"), "true");
  EXPECT_EQ(match("[!abc]at", none, "cat"), "false");
  EXPECT_EQ(match("[a-c]at", none, "bat"), "true");
  EXPECT_EQ(match("[!a-c]at", none, "bat"), "false");
  EXPECT_EQ(match("?at", none, "at"), "false");
  EXPECT_EQ(match("?at", J(R"(["f"])"), "bat"), "true");
  EXPECT_EQ(match("?at", J(R"(["f"])"), "fat"), "false");
  EXPECT_EQ(match("{cat,bat,[fr]at}", none, "rat"), "true");
  EXPECT_EQ(match("{cat,bat,[fr]at}", none, "at"), "false");
  EXPECT_EQ(match("*", none, "foo.bar"), "false");  // [] means the default delimiter "."
  EXPECT_EQ(match("*", Value::Null(), "foo.bar"), "true");
  EXPECT_EQ(match("foo*", Value::Null(), "foo.bar"), "true");
  EXPECT_EQ(match("\\*.com", dot, "*.com"), "true");
  EXPECT_EQ(match("a{b,c{d,e}}f", none, "acef"), "true");
  EXPECT_EQ(match("a+b(c)", none, "a+b(c)"), "true");
  ExpectError(Call("glob.match", {S("[a"), none, S("a")}), kBuiltinError, "glob.match");
  ExpectError(Call("glob.match", {S("a"), S("."), S("a")}), kTypeError,
              "operand 2 must be one of {array, null} but got string");
  ExpectError(Call("glob.match", {S("a"), J(R"(["ab"])"), S("a")}), kTypeError,
              "operand 2 must be array of runes but got array containing string");
}

TEST(GlobTest, QuoteMeta) {
  EXPECT_EQ(Str(Call("glob.quote_meta", {S("*.github.com")})), "\\*.github.com");
  EXPECT_EQ(Str(Call("glob.quote_meta", {S("[a]{b}?\\")})), "\\[a\\]\\{b\\}\\?\\\\");
}

TEST(UnitsTest, Parse) {
  auto parse = [](std::string s) { return Ok(Call("units.parse", {S(std::move(s))})); };
  EXPECT_EQ(parse("500m"), "0.5");
  EXPECT_EQ(parse("0.0005K"), "0.5");
  EXPECT_EQ(parse("0.0000005M"), "0.5");
  EXPECT_EQ(parse("1Ki"), "1024");
  EXPECT_EQ(parse("10KI"), "10240");
  EXPECT_EQ(parse("1.1Ki"), "1126.4");
  EXPECT_EQ(parse("\"100TI\""), "109951162777600");
  EXPECT_EQ(parse(".5K"), "500");
  EXPECT_EQ(parse("1e-2"), "0.01");
  EXPECT_EQ(parse("-3.5E2m"), "-0.35");
  EXPECT_EQ(parse("6e3Mi"), "6291456000");
  EXPECT_EQ(parse("5E"), "5000000000000000000");
  EXPECT_EQ(parse("1e-999999"), "0");
  EXPECT_EQ(parse("1.23456789012345K"), "1234.5678901235");  // rounded to 10 decimals
  EXPECT_EQ(Ok(Call("units.parse", {S("10ei")})), Value::Double(11529215046068469760.0).ToJson());
  ExpectError(Call("units.parse", {S("")}), kBuiltinError, "units.parse: no amount provided");
  ExpectError(Call("units.parse", {S("G")}), kBuiltinError, "no amount provided");
  ExpectError(Call("units.parse", {S("0.0.0")}), kBuiltinError,
              "could not parse amount to a number");
  ExpectError(Call("units.parse", {S(" 327Mi ")}), kBuiltinError,
              "spaces not allowed in resource strings");
  ExpectError(Call("units.parse", {S("1x")}), kBuiltinError, "unit x not recognized");
}

TEST(UnitsTest, ParseBytes) {
  auto parse = [](std::string s) { return Ok(Call("units.parse_bytes", {S(std::move(s))})); };
  EXPECT_EQ(parse("1KiB"), "1024");
  EXPECT_EQ(parse("10KB"), "10000");
  EXPECT_EQ(parse("1.1KiB"), "1126");
  EXPECT_EQ(parse(".5KB"), "500");
  EXPECT_EQ(parse("1e-2KB"), "10");
  EXPECT_EQ(parse("3.2E2MiB"), "335544320");
  EXPECT_EQ(parse("\"100TIB\""), "109951162777600");
  EXPECT_EQ(parse("100m"), "100000000");  // lower-cased: mega, not milli
  EXPECT_EQ(parse("0.0"), "0");
  ExpectError(Call("units.parse_bytes", {S("foo")}), kBuiltinError, "no byte amount provided");
  ExpectError(Call("units.parse_bytes", {S("5xb")}), kBuiltinError, "byte unit xb not recognized");
}

TEST(SemverTest, IsValidAndCompare) {
  EXPECT_EQ(Ok(Call("semver.is_valid", {S("1.0.0")})), "true");
  EXPECT_EQ(Ok(Call("semver.is_valid", {S("v1.2.3-rc.1+build.5")})), "true");
  EXPECT_EQ(Ok(Call("semver.is_valid", {S("1")})), "false");
  EXPECT_EQ(Ok(Call("semver.is_valid", {S("1.0.0-")})), "true");
  EXPECT_EQ(Ok(Call("semver.is_valid", {S("1.0.0-a..b")})), "false");
  EXPECT_EQ(Ok(Call("semver.is_valid", {I(1)})), "false");
  EXPECT_EQ(Ok(Call("semver.compare", {S("1.0.0"), S("2.0.0")})), "-1");
  EXPECT_EQ(Ok(Call("semver.compare", {S("1.0.0"), S("1.0.0+meta")})), "0");
  EXPECT_EQ(Ok(Call("semver.compare", {S("1.0.0-alpha"), S("1.0.0")})), "-1");
  EXPECT_EQ(Ok(Call("semver.compare", {S("1.0.0-alpha.1"), S("1.0.0-alpha")})), "1");
  EXPECT_EQ(Ok(Call("semver.compare", {S("1.0.0-alpha.2"), S("1.0.0-alpha.10")})), "-1");
  EXPECT_EQ(Ok(Call("semver.compare", {S("1.0.0-beta"), S("1.0.0-alpha.10")})), "1");
  EXPECT_EQ(Ok(Call("semver.compare", {S("1.0.0-1"), S("1.0.0-a")})), "-1");
  ExpectError(Call("semver.compare", {S("1"), S("1.0.0")}), kBuiltinError,
              "semver.compare: operand 1: string \"1\" is not a valid SemVer");
  ExpectError(Call("semver.compare", {S("1.0.0"), S("1")}), kBuiltinError,
              "operand 2: string \"1\" is not a valid SemVer");
}

TEST(StringBuiltinsTest, AllRegistered) {
  for (const char* name : {"concat",
                           "contains",
                           "endswith",
                           "startswith",
                           "format_int",
                           "indexof",
                           "indexof_n",
                           "lower",
                           "upper",
                           "replace",
                           "strings.replace_n",
                           "split",
                           "sprintf",
                           "substring",
                           "trim",
                           "trim_left",
                           "trim_right",
                           "trim_prefix",
                           "trim_suffix",
                           "trim_space",
                           "strings.reverse",
                           "strings.count",
                           "strings.any_prefix_match",
                           "strings.any_suffix_match",
                           "regex.match",
                           "re_match",
                           "regex.is_valid",
                           "regex.find_n",
                           "regex.find_all_string_submatch_n",
                           "regex.split",
                           "regex.replace",
                           "regex.template_match",
                           "regex.globs_match",
                           "glob.match",
                           "glob.quote_meta",
                           "units.parse",
                           "units.parse_bytes",
                           "semver.is_valid",
                           "semver.compare"}) {
    EXPECT_NE(Builtins().Find(name), nullptr) << name;
  }
}

}  // namespace
}  // namespace mcpgw::rego
