// TypeTable: interning, unions (flattening, duplicates, order), printing, assignability, without(),
// and resolving written types.
#include <gtest/gtest.h>

#include <string>

#include "lang/builtins.hpp"
#include "lang/types.hpp"

namespace flowd {
namespace {

class TypesTest : public ::testing::Test {
 protected:
  TypeTable T;
  const Type* resolve(std::string_view text) {
    std::string err;
    int pos = -1;
    const Type* t = resolve_type_text(T, text, nullptr, err, pos);
    last_error = err;
    last_pos = pos;
    return t;
  }
  std::string last_error;
  int last_pos = -1;
};

TEST_F(TypesTest, NamesTheBuiltinTypes) {
  EXPECT_EQ(T.integer()->name, "int");
  EXPECT_EQ(T.floating()->name, "float");
  EXPECT_EQ(T.boolean()->name, "boolean");
  EXPECT_EQ(T.byte()->name, "byte");
  EXPECT_EQ(T.string()->name, "string");
  EXPECT_EQ(T.error()->name, "error");
  EXPECT_EQ(T.nil()->name, "()");
  EXPECT_EQ(T.caller()->name, "tcp:Caller");
  EXPECT_EQ(T.any()->name, "any");
  EXPECT_EQ(T.never()->name, "never");
  EXPECT_EQ(T.bytes()->name, "byte[]");
  EXPECT_EQ(T.optional_error()->name, "error?");
}

TEST_F(TypesTest, InternsConstructedTypes) {
  EXPECT_EQ(T.array_of(T.integer()), T.array_of(T.integer()));
  EXPECT_EQ(T.array_of(T.byte()), T.bytes());
  EXPECT_EQ(T.map_of(T.string()), T.map_of(T.string()));
  EXPECT_NE(T.array_of(T.integer()), T.array_of(T.string()));
  EXPECT_EQ(T.map_of(T.string())->name, "map<string>");
  EXPECT_EQ(T.map_of(T.string())->kind, TypeKind::Map);
  EXPECT_EQ(T.map_of(T.string())->elem, T.string());
  EXPECT_EQ(T.object(0, "Chat"), T.object(0, "Chat"));
  EXPECT_EQ(T.object(0, "Chat")->class_index, 0);
}

TEST_F(TypesTest, KeepsAClassDistinctFromABuiltinOfTheSameName) {
  // Classes are interned apart from built-in types (the loader also refuses such class names).
  const Type* cls = T.object(0, "int");
  EXPECT_NE(cls, T.integer());
  EXPECT_EQ(cls->kind, TypeKind::Object);
}

TEST_F(TypesTest, InternsUnionsRegardlessOfOrder) {
  const Type* a = T.union_of({T.string(), T.error()});
  const Type* b = T.union_of({T.error(), T.string()});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a->kind, TypeKind::Union);
  EXPECT_EQ(a->members.size(), 2u);
  // The first spelling decides how it prints.
  EXPECT_EQ(b->name, "string|error");
}

TEST_F(TypesTest, FlattensNestedUnions) {
  const Type* inner = T.union_of({T.integer(), T.string()});
  const Type* u = T.union_of({inner, T.error()});
  ASSERT_EQ(u->kind, TypeKind::Union);
  ASSERT_EQ(u->members.size(), 3u);
  for (const Type* m : u->members) EXPECT_NE(m->kind, TypeKind::Union);
  EXPECT_EQ(u, T.union_of({T.integer(), T.string(), T.error()}));
  EXPECT_EQ(u->name, "int|string|error");
}

TEST_F(TypesTest, DropsDuplicateMembers) {
  EXPECT_EQ(T.union_of({T.integer(), T.integer()}), T.integer());
  const Type* si = T.union_of({T.string(), T.integer()});
  const Type* u = T.union_of({T.integer(), T.string(), T.integer(), si});
  EXPECT_EQ(u, si);
  EXPECT_EQ(u->members.size(), 2u);
  EXPECT_EQ(u->name, "string|int");
}

TEST_F(TypesTest, SimplifiesUnionsWithNeverAndAny) {
  EXPECT_EQ(T.union_of({}), T.never());
  EXPECT_EQ(T.union_of({T.never()}), T.never());
  EXPECT_EQ(T.union_of({T.never(), T.integer()}), T.integer());
  EXPECT_EQ(T.union_of({T.integer(), T.any()}), T.any());
}

TEST_F(TypesTest, PrintsOptionalTypesWithAQuestionMark) {
  EXPECT_EQ(T.optional(T.integer())->name, "int?");
  EXPECT_EQ(T.optional(T.union_of({T.integer(), T.string()}))->name, "(int|string)?");
  EXPECT_EQ(T.union_of({T.nil(), T.string()})->name, "string?");
  EXPECT_EQ(T.optional(T.optional(T.integer())), T.optional(T.integer()));
  EXPECT_EQ(T.optional(T.nil()), T.nil());
}

TEST_F(TypesTest, ParenthesizesUnionsBeforeArraySuffixes) {
  EXPECT_EQ(T.array_of(T.union_of({T.integer(), T.string()}))->name, "(int|string)[]");
  EXPECT_EQ(T.array_of(T.optional(T.integer()))->name, "(int?)[]");
  EXPECT_EQ(T.array_of(T.array_of(T.integer()))->name, "int[][]");
  EXPECT_EQ(T.map_of(T.union_of({T.integer(), T.string()}))->name, "map<int|string>");
}

TEST_F(TypesTest, ReportsMembersWithContains) {
  const Type* u = T.union_of({T.string(), T.error()});
  EXPECT_TRUE(u->contains(TypeKind::Error));
  EXPECT_TRUE(u->contains(TypeKind::String));
  EXPECT_FALSE(u->contains(TypeKind::Nil));
  EXPECT_TRUE(T.error()->contains(TypeKind::Error));
  EXPECT_FALSE(T.integer()->contains(TypeKind::Error));
}

// ---- assignability

TEST_F(TypesTest, AssignsATypeToItself) {
  EXPECT_TRUE(T.assignable(T.integer(), T.integer()));
  EXPECT_TRUE(T.assignable(T.bytes(), T.bytes()));
  EXPECT_FALSE(T.assignable(T.integer(), T.string()));
  EXPECT_FALSE(T.assignable(T.integer(), T.floating()));
  EXPECT_FALSE(T.assignable(T.floating(), T.integer()));
}

TEST_F(TypesTest, AssignsByteToIntButNotBack) {
  EXPECT_TRUE(T.assignable(T.byte(), T.integer()));
  EXPECT_FALSE(T.assignable(T.integer(), T.byte()));
  EXPECT_TRUE(T.assignable(T.byte(), T.optional(T.integer())));
}

TEST_F(TypesTest, AssignsAMemberToItsUnion) {
  const Type* se = T.union_of({T.string(), T.error()});
  EXPECT_TRUE(T.assignable(T.string(), se));
  EXPECT_TRUE(T.assignable(T.error(), se));
  EXPECT_FALSE(T.assignable(T.integer(), se));
  EXPECT_TRUE(T.assignable(T.nil(), T.optional(T.integer())));
}

TEST_F(TypesTest, AssignsAUnionOnlyWhenEveryMemberFits) {
  const Type* se = T.union_of({T.string(), T.error()});
  EXPECT_FALSE(T.assignable(se, T.string()));
  EXPECT_TRUE(T.assignable(se, T.union_of({T.error(), T.integer(), T.string()})));
  EXPECT_FALSE(T.assignable(T.union_of({T.string(), T.integer()}), se));
  EXPECT_TRUE(T.assignable(T.union_of({T.byte(), T.string()}), T.union_of({T.integer(), T.string()})));
}

TEST_F(TypesTest, AssignsNeverToEverythingAndEverythingToAny) {
  EXPECT_TRUE(T.assignable(T.never(), T.string()));
  EXPECT_TRUE(T.assignable(T.never(), T.nil()));
  EXPECT_FALSE(T.assignable(T.string(), T.never()));
  EXPECT_TRUE(T.assignable(T.string(), T.any()));
  EXPECT_TRUE(T.assignable(T.union_of({T.string(), T.error()}), T.any()));
  EXPECT_FALSE(T.assignable(T.any(), T.string()));
}

TEST_F(TypesTest, KeepsArraysAndMapsInvariant) {
  // No run-time element types: a covariant alias could store a value of the wrong type.
  EXPECT_FALSE(T.assignable(T.bytes(), T.array_of(T.integer())));
  EXPECT_FALSE(T.assignable(T.array_of(T.integer()), T.bytes()));
  EXPECT_FALSE(T.assignable(T.map_of(T.byte()), T.map_of(T.integer())));
  EXPECT_FALSE(T.assignable(T.array_of(T.string()), T.array_of(T.union_of({T.string(), T.integer()}))));
  EXPECT_TRUE(T.assignable(T.array_of(T.string()), T.array_of(T.string())));
  EXPECT_FALSE(T.assignable(T.array_of(T.integer()), T.map_of(T.integer())));
  EXPECT_FALSE(T.assignable(T.string(), T.bytes()));
}

TEST_F(TypesTest, DropsByteFromAUnionWithInt) {
  EXPECT_EQ(T.union_of({T.byte(), T.integer()}), T.integer());
}

// ---- without

TEST_F(TypesTest, RemovesAKindFromAUnion) {
  EXPECT_EQ(T.without(T.union_of({T.string(), T.error()}), TypeKind::Error), T.string());
  EXPECT_EQ(T.without(T.optional(T.integer()), TypeKind::Nil), T.integer());
  EXPECT_EQ(T.without(T.union_of({T.integer(), T.string(), T.nil()}), TypeKind::Nil),
            T.union_of({T.integer(), T.string()}));
}

TEST_F(TypesTest, RemovingTheWholeTypeLeavesNever) {
  EXPECT_EQ(T.without(T.error(), TypeKind::Error), T.never());
  EXPECT_EQ(T.without(T.integer(), TypeKind::Error), T.integer());
}

TEST_F(TypesTest, RemovesATypeAndWhatIsAssignableToIt) {
  const Type* ise = T.union_of({T.integer(), T.string(), T.error()});
  EXPECT_EQ(T.without(ise, T.union_of({T.string(), T.error()})), T.integer());
  EXPECT_EQ(T.without(ise, T.error()), T.union_of({T.integer(), T.string()}));
  EXPECT_EQ(T.without(T.union_of({T.byte(), T.string()}), T.integer()), T.string());
  EXPECT_EQ(T.without(T.string(), T.string()), T.never());
  EXPECT_EQ(T.without(T.string(), T.integer()), T.string());
}

TEST_F(TypesTest, NamesSimpleTypes) {
  EXPECT_TRUE(TypeTable::is_simple(T.integer()));
  EXPECT_TRUE(TypeTable::is_simple(T.floating()));
  EXPECT_TRUE(TypeTable::is_simple(T.byte()));
  EXPECT_TRUE(TypeTable::is_simple(T.boolean()));
  EXPECT_TRUE(TypeTable::is_simple(T.string()));
  EXPECT_FALSE(TypeTable::is_simple(T.nil()));
  EXPECT_FALSE(TypeTable::is_simple(T.error()));
  EXPECT_FALSE(TypeTable::is_simple(T.bytes()));
  EXPECT_FALSE(TypeTable::is_simple(T.optional(T.integer())));
}

// ---- resolving written types

TEST_F(TypesTest, ResolvesWrittenTypes) {
  EXPECT_EQ(resolve("string|error"), T.union_of({T.string(), T.error()}));
  EXPECT_EQ(resolve("int[]?"), T.optional(T.array_of(T.integer())));
  EXPECT_EQ(resolve("map<string>"), T.map_of(T.string()));
  EXPECT_EQ(resolve("(int|string)[]"), T.array_of(T.union_of({T.integer(), T.string()})));
  EXPECT_EQ(resolve("tcp:Caller"), T.caller());
  EXPECT_EQ(resolve("tcp:Error"), T.error());
  EXPECT_EQ(resolve("()"), T.nil());
  EXPECT_EQ(resolve("anydata"), T.any());
}

TEST_F(TypesTest, ReportsUnknownTypesWithAHint) {
  EXPECT_EQ(resolve("int|Caller"), nullptr);
  EXPECT_EQ(last_error, "unknown type 'Caller' (did you mean 'tcp:Caller'?)");
  EXPECT_EQ(last_pos, 4);
  EXPECT_EQ(resolve("String"), nullptr);
  EXPECT_EQ(last_error, "unknown type 'String' (did you mean 'string'?)");
  EXPECT_EQ(resolve("map<bool>"), nullptr);
  EXPECT_EQ(last_error, "unknown type 'bool' (did you mean 'boolean'?)");
  EXPECT_EQ(last_pos, 4);
  EXPECT_EQ(resolve("Foo"), nullptr);
  EXPECT_EQ(last_error, "unknown type 'Foo'");
}

TEST_F(TypesTest, ResolvesClassNamesThroughTheLookup) {
  const Type* chat = T.object(0, "Chat");
  std::string err;
  int pos = 0;
  auto lookup = [&](std::string_view n) -> const Type* { return n == "Chat" ? chat : nullptr; };
  EXPECT_EQ(resolve_type_text(T, "Chat?", lookup, err, pos), T.optional(chat));
  EXPECT_EQ(resolve_type_text(T, "Chatt", lookup, err, pos), nullptr);
  EXPECT_EQ(err, "unknown type 'Chatt'");
}

}  // namespace
}  // namespace flowd
