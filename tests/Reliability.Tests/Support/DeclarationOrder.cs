using Xunit.Abstractions;
using Xunit.Sdk;

namespace Reference.Reliability.Tests.Support;

/// <summary>Runs a class's tests in the order they are written, for a class whose last test leaves damage behind (a hung job).</summary>
public sealed class DeclarationOrder : ITestCaseOrderer
{
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.ToRuntimeMethod().MetadataToken);
}
