Console.WriteLine("lightglm");
