using Reference.ImageWorker;
using Reference.ImageWorker.Supervision;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
// Compose runs one container as a supervisor of 0..N worker processes (docs/deploy-vds.md, "Scaling").
if (builder.Configuration.GetValue<bool>(SupervisorServices.SuperviseSetting))
{
    builder.AddWorkerSupervisor();
}
else
{
    builder.AddApplicationServices();
}

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();

public partial class Program;
