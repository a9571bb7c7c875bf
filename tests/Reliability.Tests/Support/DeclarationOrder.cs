using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Reference.Reliability.Tests.Support;

/// <summary>
/// Runs a class's tests in the order they are written, and those marked <see cref="RunsLastAttribute"/> after the rest
/// (across the files of a partial class, written order is only the compiler's order of files).
/// </summary>
public sealed class DeclarationOrder : ITestCaseOrderer
{
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases
            .OrderBy(t => t.TestMethod.Method.ToRuntimeMethod().GetCustomAttribute<RunsFirstAttribute>() is null)
            .ThenBy(t => t.TestMethod.Method.ToRuntimeMethod().GetCustomAttribute<RunsLastAttribute>() is not null)
            .ThenBy(t => t.TestMethod.Method.ToRuntimeMethod().MetadataToken);
}

/// <summary>A test that leaves damage behind (a hung job kills workers), so <see cref="DeclarationOrder"/> runs it last.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RunsLastAttribute : Attribute;

/// <summary>A test that needs the workers as they start (never drained, resumed or killed), so <see cref="DeclarationOrder"/> runs it first.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RunsFirstAttribute : Attribute;
